#!/usr/bin/env python3
"""deploy/kubernetes renders, and every object says what the fleet needs.

Each overlay is rendered offline with `kubectl kustomize` (skipped, exit 77,
when kubectl is not installed: Debian has no package for it) and every
object is read with PyYAML:
- backfill: an Indexed Job, completions = parallelism = N, each pod part
  $(JOB_COMPLETION_INDEX)/N of it, the index defined in the container's env;
- live: a StatefulSet of N replicas, each --shard auto/N, behind a headless
  Service that selects exactly its pods;
- both: the ConfigMap (no hash suffix, so --watch-config sees updates in
  place) mounted where --config reads it, the token from the Secret where
  sink.token_file says, /healthz probes on the metrics port, Prometheus
  annotations naming that port, Guaranteed QoS with whole CPUs equal to
  runtime.workers, non-root, read-only root, no capabilities, no privilege
  escalation, a writable emptyDir holding the control socket and checkpoint;
- the ConfigMap's superventd.toml passes `superventd --check-config`.
"""
import os
import re
import shutil
import subprocess
import sys
import tomllib

import harness
from harness import check

SKIP = 77
DEPLOY = os.path.join(harness.REPO_DIR, "deploy", "kubernetes")

if shutil.which("kubectl") is None:
    print("SKIP deploy_kubernetes: kubectl is not installed (Debian has no package for it), so the "
          "kustomize overlays cannot be rendered here")
    sys.exit(SKIP)

import yaml  # noqa: E402  (python3-yaml, from scripts/install-deps.sh)


def render(h, overlay):
    result = h.run(f"kustomize-{overlay}", ["kubectl", "kustomize", os.path.join(DEPLOY, "overlays", overlay)],
                   timeout_s=60)
    check(result.rc == 0, f"kubectl kustomize overlays/{overlay} exited {result.rc}: {result.stderr}")
    objects = [o for o in yaml.safe_load_all(result.stdout) if o]
    h.log(f"overlays/{overlay}: {', '.join(o['kind'] + '/' + o['metadata']['name'] for o in objects)}")
    for o in objects:
        check(o["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "supervent",
              f"{o['kind']}/{o['metadata']['name']} lacks the label app.kubernetes.io/name=supervent")
    account = only(objects, "ServiceAccount")
    check(account.get("automountServiceAccountToken") is False, "the ServiceAccount must not mount an API token")
    return objects


def only(objects, kind):
    found = [o for o in objects if o["kind"] == kind]
    check(len(found) == 1, f"expected one {kind}, found {len(found)}")
    return found[0]


def arg_after(args, name):
    check(name in args, f"the container's args lack {name}: {args}")
    return args[args.index(name) + 1]


def mount_of(container, volume):
    mounts = [m for m in container.get("volumeMounts", []) if m["name"] == volume]
    check(len(mounts) == 1, f"volume {volume} is not mounted once: {container.get('volumeMounts')}")
    return mounts[0]


def check_config(h, objects, container, pod):
    """The ConfigMap: mounted at --config's directory, valid, consistent with the pod."""
    config_map = only(objects, "ConfigMap")
    check(config_map["metadata"]["name"] == "supervent-config",
          f"the ConfigMap is named {config_map['metadata']['name']}: a hash suffix would make every edit a rollout "
          "instead of a --watch-config reload")
    volumes = {v["name"]: v for v in pod["volumes"]}
    check(volumes["config"]["configMap"]["name"] == "supervent-config", "the config volume is not the ConfigMap")
    config_path = arg_after(container["args"], "--config")
    check(os.path.dirname(config_path) == mount_of(container, "config")["mountPath"],
          f"--config {config_path} is not in the ConfigMap's mount")
    text = config_map["data"][os.path.basename(config_path)]
    settings = tomllib.loads(text)
    check(settings["runtime"]["watch_config"] is True, "runtime.watch_config is off: ConfigMap edits would not apply")
    check_config.runs += 1
    path = h.path(f"superventd-{check_config.runs}.toml")
    with open(path, "w") as f:
        f.write(text)
    # The sink and token are the cluster's; everything else is checked as written.
    result = h.run(f"check-config-{check_config.runs}",
                   [h.bin("superventd"), "--config", path, "--sink", "discard:", "--check-config"],
                   timeout_s=30, env={"AXIOM_TOKEN": "xaat-00000000-0000-0000-0000-000000000000"})
    check(result.rc == 0, f"the ConfigMap's superventd.toml fails --check-config: {result.stderr}")
    return settings


check_config.runs = 0


def check_pod(h, objects, pod_template, settings_out):
    """What both workloads must hold, whatever their kind."""
    pod = pod_template["spec"]
    check(len(pod["containers"]) == 1, "one container: superventd")
    container = pod["containers"][0]
    settings = check_config(h, objects, container, pod)
    settings_out.update(settings)
    # Token: the Secret's file, where sink.token_file points; never in env or args.
    volumes = {v["name"]: v for v in pod["volumes"]}
    check(volumes["token"]["secret"]["secretName"] == "supervent-token", "the token volume is not the Secret")
    token_mount = mount_of(container, "token")
    check(token_mount.get("readOnly") is True, "the token must be mounted read-only")
    check(os.path.dirname(settings["sink"]["token_file"]) == token_mount["mountPath"],
          f"sink.token_file {settings['sink']['token_file']} is not in the Secret's mount {token_mount['mountPath']}")
    check(all("token" not in str(e).lower() or "valueFrom" not in e for e in container.get("env", [])),
          "the token must come as a file, not an environment variable")
    # Metrics: the port superventd listens on, probed and scraped.
    port = int(settings["monitoring"]["metrics_listen"].rsplit(":", 1)[1])
    check(settings["monitoring"]["metrics_listen"].startswith("0.0.0.0:"), "metrics_listen must take the pod's address")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    check(ports.get("metrics") == port, f"container port 'metrics' {ports} != metrics_listen's {port}")
    annotations = pod_template["metadata"]["annotations"]
    check(annotations.get("prometheus.io/scrape") == "true" and annotations.get("prometheus.io/port") == str(port)
          and annotations.get("prometheus.io/path") == "/metrics", f"Prometheus annotations: {annotations}")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        get = container.get(probe, {}).get("httpGet", {})
        check(get.get("path") == "/healthz" and get.get("port") in ("metrics", port), f"{probe}: {container.get(probe)}")
    # Guaranteed QoS with whole CPUs, one worker per CPU.
    resources = container["resources"]
    check(resources["requests"] == resources["limits"], f"requests != limits (not Guaranteed): {resources}")
    cpu = str(resources["limits"]["cpu"])
    check(cpu.isdigit() and int(cpu) >= 1, f"cpu {cpu!r} is not a whole number of CPUs: shards could not pin")
    check("memory" in resources["limits"], "a memory limit is needed for Guaranteed QoS")
    check(settings["runtime"]["workers"] == int(cpu), f"runtime.workers {settings['runtime']['workers']} != {cpu} CPUs")
    check_security(pod, container)
    # The one writable place: the emptyDir, holding the socket (and checkpoints).
    state = mount_of(container, "state")
    check("emptyDir" in volumes["state"] and not state.get("readOnly"), "state must be a writable emptyDir")
    check(settings["runtime"]["socket"].startswith(state["mountPath"] + "/"),
          f"runtime.socket {settings['runtime']['socket']} is not in the writable {state['mountPath']}")
    check(pod.get("automountServiceAccountToken") is False, "the pod needs no Kubernetes API token")
    check(pod.get("serviceAccountName") == only(objects, "ServiceAccount")["metadata"]["name"],
          f"the pod's service account {pod.get('serviceAccountName')} is not the rendered one")
    with open(os.path.join(harness.REPO_DIR, "scripts", "build-image.sh")) as f:
        default_tag = re.search(r'^tag="([^"]+)"$', f.read(), re.M).group(1)
    check(container["image"] == default_tag, f"image {container['image']} is not what build-image.sh makes ({default_tag})")
    return container


def check_security(pod, container):
    pod_security = pod["securityContext"]
    check(pod_security.get("runAsNonRoot") is True and pod_security.get("runAsUser", 0) != 0,
          f"the pod must run as a non-root uid: {pod_security}")
    security = container["securityContext"]
    check(security.get("readOnlyRootFilesystem") is True, "the root filesystem must be read-only")
    check(security.get("allowPrivilegeEscalation") is False, "privilege escalation must be off")
    check(security.get("privileged", False) is False, "the container must not be privileged")
    check(security.get("capabilities", {}).get("drop") == ["ALL"] and not security["capabilities"].get("add"),
          f"every capability must be dropped and none added: {security.get('capabilities')}")


def check_backfill(h):
    objects = render(h, "backfill")
    job = only(objects, "Job")
    spec = job["spec"]
    check(spec.get("completionMode") == "Indexed", "the backfill is an Indexed Job")
    n = spec["completions"]
    check(n >= 1 and spec["parallelism"] == n, f"completions {n} != parallelism {spec['parallelism']}")
    settings = {}
    container = check_pod(h, objects, spec["template"], settings)
    check(arg_after(container["args"], "--shard") == f"$(JOB_COMPLETION_INDEX)/{n}",
          f"--shard {arg_after(container['args'], '--shard')} is not $(JOB_COMPLETION_INDEX)/{n}")
    env = {e["name"]: e for e in container.get("env", [])}
    check("JOB_COMPLETION_INDEX" in env, "JOB_COMPLETION_INDEX must be in the container's env for $(...) to expand")
    check(spec["template"]["spec"]["restartPolicy"] == "OnFailure",
          "restartPolicy OnFailure: a failed part restarts in its pod and resumes from the emptyDir's checkpoint")
    checkpoint = arg_after(container["args"], "--checkpoint")
    check(checkpoint.startswith(mount_of(container, "state")["mountPath"] + "/"), f"checkpoint {checkpoint} not in state")
    h.log(f"backfill: Indexed Job of {n} parts checked")


def check_live(h):
    objects = render(h, "live")
    stateful_set = only(objects, "StatefulSet")
    spec = stateful_set["spec"]
    n = spec["replicas"]
    settings = {}
    container = check_pod(h, objects, spec["template"], settings)
    check(arg_after(container["args"], "--shard") == f"auto/{n}",
          f"--shard {arg_after(container['args'], '--shard')} is not auto/{n} for {n} replicas")
    labels = spec["template"]["metadata"]["labels"]
    check(all(labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()),
          "the StatefulSet's selector does not match its pods")
    service = only(objects, "Service")
    check(spec["serviceName"] == service["metadata"]["name"], "serviceName must name the rendered Service")
    check(service["spec"].get("clusterIP") == "None", "the Service must be headless (stable pod names)")
    check(all(labels.get(k) == v for k, v in service["spec"]["selector"].items()),
          "the Service does not select the StatefulSet's pods")
    h.log(f"live: StatefulSet of {n} parts checked")


def test(h):
    check_backfill(h)
    check_live(h)


if __name__ == "__main__":
    harness.main(test)
