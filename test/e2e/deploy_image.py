#!/usr/bin/env python3
"""The OCI image scripts/build-image.sh assembles from scratch with buildah.

In a scratch buildah storage of its own (removed at the end):
- the script builds the image from the built binaries (no base image can be
  pulled here);
- `buildah inspect`: entrypoint /usr/bin/superventd, user 65532:65532, port
  9464, the OCI labels (title, version = superventd --version, revision);
- the files: the three programs, every shared library ldd names and the
  loader, the CA bundle, a passwd entry for 65532, /var/lib/supervent
  owned by it; in the unpacked tree, as uid 65532 under chroot, the three
  programs start (nothing is missing from the image);
- podman runs the image (runc, the sandbox's limits on rlimits respected):
  --version, then read-only, without capabilities, as 65532, 20,000 events
  to a supervent-sink on the host, all acknowledged and counted there.
Skipped (exit 77, with the reason) when buildah is missing or cannot make a
container here at all; when podman cannot run a container here the checks
above still run and the test then exits 77 saying what podman said.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import harness
from harness import check

SKIP = 77
TAG = "localhost/supervent-e2e:test"

if shutil.which("buildah") is None:
    print("SKIP deploy_image: buildah is not installed (apt-get install buildah; scripts/install-deps.sh has it)")
    sys.exit(SKIP)


class Storage:
    """A buildah/podman storage in the test's temp dir."""

    def __init__(self, h):
        self.h = h
        # podman refuses a runroot longer than 50 characters: a short one of its own.
        self.runroot = tempfile.mkdtemp(prefix="sv-run-")
        self.flags = ["--root", h.path("storage/root"), "--runroot", self.runroot]

    def buildah(self, name, args, timeout_s=120):
        return self.h.run(name, ["buildah"] + self.flags + args, timeout_s=timeout_s)

    def podman(self, name, args, timeout_s=120):
        runtime = ["--runtime", "runc"] if shutil.which("runc") else []
        return self.h.run(name, ["podman"] + self.flags + runtime + args, timeout_s=timeout_s)

    def clean(self):
        subprocess.run(["buildah"] + self.flags + ["rm", "--all"], capture_output=True, timeout=60)
        subprocess.run(["buildah"] + self.flags + ["rmi", "--all", "--force"], capture_output=True, timeout=60)
        shutil.rmtree(self.runroot, ignore_errors=True)


def can_buildah(storage):
    """Why buildah cannot make and mount a container here, or None."""
    probe = storage.buildah("probe-from", ["from", "--name", "probe", "scratch"], timeout_s=60)
    if probe.rc != 0:
        return f"buildah from scratch: {probe.stderr.strip()}"
    mounted = storage.buildah("probe-mount", ["mount", "probe"], timeout_s=60)
    storage.buildah("probe-rm", ["rm", "probe"], timeout_s=60)
    return None if mounted.rc == 0 else f"buildah mount: {mounted.stderr.strip()}"


def check_inspect(h, storage):
    result = storage.buildah("inspect", ["inspect", "--type", "image", TAG])
    check(result.rc == 0, f"buildah inspect: {result.stderr}")
    config = json.loads(result.stdout)["OCIv1"]["config"]
    check(config.get("Entrypoint") == ["/usr/bin/superventd"], f"entrypoint {config.get('Entrypoint')}")
    check(config.get("User") == "65532:65532", f"user {config.get('User')}: the image must run as non-root")
    check("9464/tcp" in config.get("ExposedPorts", {}), f"ports {config.get('ExposedPorts')}")
    labels = config.get("Labels", {})
    version = subprocess.run([h.bin("superventd"), "--version"], capture_output=True, text=True).stdout.split()[1]
    check(labels.get("org.opencontainers.image.title") == "supervent", f"labels {labels}")
    check(labels.get("org.opencontainers.image.version") == version, f"version label != {version}: {labels}")
    check(re.fullmatch(r"[0-9a-f]{40}|unknown", labels.get("org.opencontainers.image.revision", "")), f"{labels}")
    h.log(f"inspect: {config.get('Entrypoint')} as {config.get('User')}, labels {sorted(labels)}")


def check_files(h, storage):
    made = storage.buildah("from-image", ["from", "--name", "files", TAG])
    check(made.rc == 0, f"buildah from {TAG}: {made.stderr}")
    mounted = storage.buildah("mount-image", ["mount", "files"])
    check(mounted.rc == 0, f"buildah mount: {mounted.stderr}")
    root = mounted.stdout.strip()
    needed = set()
    for program in ("superventd", "supervent-ctl", "supervent-sink"):
        check(os.access(os.path.join(root, "usr/bin", program), os.X_OK), f"/usr/bin/{program} missing")
        ldd = subprocess.run(["ldd", h.bin(program)], capture_output=True, text=True, check=True).stdout
        needed |= set(re.findall(r"=> (/\S+)", ldd)) | set(re.findall(r"^\s+(/\S+) \(", ldd, re.M))
    for library in sorted(needed):
        check(os.path.exists(root + library), f"{library} (ldd) is not in the image")
    check(os.path.getsize(os.path.join(root, "etc/ssl/certs/ca-certificates.crt")) > 10000, "no CA bundle")
    with open(os.path.join(root, "etc/passwd")) as f:
        check(re.search(r"^supervent:x:65532:65532:", f.read(), re.M), "no passwd entry for 65532")
    check(os.stat(os.path.join(root, "var/lib/supervent")).st_uid == 65532, "/var/lib/supervent is not 65532's")
    # The image alone is enough to run: its own loader and libraries, as its user.
    for program in ("superventd", "supervent-ctl", "supervent-sink"):
        result = h.run(f"chroot-{program}", ["chroot", "--userspec=65532:65532", root, f"/usr/bin/{program}",
                                             "--version"], timeout_s=30)
        check(result.rc == 0 and program in result.stdout, f"{program} --version in the image: {result.stderr}")
    storage.buildah("umount-image", ["umount", "files"])
    h.log(f"files: 3 programs, {len(needed)} libraries, CA bundle, passwd; all start under chroot as 65532")


def run_podman(h, storage):
    """Returns why podman cannot run containers here, or None after the run checks passed."""
    if shutil.which("podman") is None:
        return "podman is not installed"
    limits = ["--ulimit", "nofile=1024:4096", "--ulimit", "nproc=1024:1024"]
    first = storage.podman("podman-version", ["run", "--rm", "--network", "host"] + limits + [TAG, "--version"])
    if first.rc != 0:
        return f"podman run: {first.stderr.strip()[-400:]}"
    check("superventd" in first.stdout, f"podman run --version: {first.stdout}")
    sink = h.start_sink()
    hardened = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                # podman's default seccomp profile denies io_uring (as containerd's does).
                "--security-opt", "seccomp=unconfined"]
    run = storage.podman("podman-run", ["run", "--rm", "--network", "host"] + limits + hardened +
                         [TAG, "--sink", sink.url, "--events", "20000", "--workers", "1", "--no-pin"], timeout_s=60)
    check(run.rc == 0, f"superventd in the container exited {run.rc}: {run.stderr[-2000:]}")
    summary = harness.require_summary(run.stderr)
    check(summary["acked"] == 20000 and summary["failed"] == 0, f"summary in the container: {summary}")
    report = sink.stop()
    check(report["events"] == 20000 and report["invalid_events"] == 0, f"the sink counted {report}")
    h.log("podman: the image ran read-only, without capabilities, as 65532: 20,000 events acknowledged")
    return None


def test(h):
    storage = Storage(h)
    try:
        reason = can_buildah(storage)
        if reason is not None:
            test.skip = f"buildah cannot work in this sandbox: {reason}"
            return
        build_dir = os.path.dirname(h.bin_dir)
        built = h.run("build-image", [os.path.join(harness.REPO_DIR, "scripts", "build-image.sh"), "--scratch",
                                      "--build-dir", build_dir, "--tag", TAG] + storage.flags, timeout_s=240)
        check(built.rc == 0, f"build-image.sh exited {built.rc}: {built.stderr[-2000:]}")
        check_inspect(h, storage)
        check_files(h, storage)
        reason = run_podman(h, storage)
        if reason is not None:
            test.skip = f"the image was built and inspected, but podman cannot run it here: {reason}"
    finally:
        storage.clean()


test.skip = None

if __name__ == "__main__":
    try:
        harness.main(test)
    except SystemExit as done:
        if done.code == 0 and test.skip:
            print(f"SKIP deploy_image: {test.skip}")
            sys.exit(SKIP)
        raise
