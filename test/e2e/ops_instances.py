#!/usr/bin/env python3
"""Several superventd per host: the unit template superventd@.service and
supervent-ctl --instance.

- The template, with ExecStart pointing at the built superventd, passes
  `systemd-analyze verify` without a word (skipped, exit 77, when
  systemd-analyze is missing), and `systemd-analyze security --offline=yes`
  rates it as well as superventd.service (at most 2.0);
- it names everything per instance: config /etc/supervent/%i.toml, socket
  /run/supervent/%i.sock, StateDirectory=supervent/%i, a runtime directory of
  its own, and keeps superventd.service's hardening line for line;
- `cmake --install` installs it beside superventd.service, pointing at the
  installed files;
- `supervent-ctl --instance NAME status` reaches the daemon listening on
  /run/supervent/NAME.sock (a unique NAME; skipped when /run/supervent
  cannot be made, i.e. not root); --instance with --socket, or a NAME with a
  '/', is a usage error (exit 2).
"""
import os
import re
import shutil
import sys
import uuid

import harness
from harness import check

SKIP = 77
TEMPLATE = os.path.join(harness.REPO_DIR, "systemd", "superventd@.service")
SERVICE = os.path.join(harness.REPO_DIR, "systemd", "superventd.service")

if shutil.which("systemd-analyze") is None:
    print("SKIP ops_instances: systemd-analyze is not installed (apt-get install systemd)")
    sys.exit(SKIP)

HARDENING = re.compile(r"^(?:DynamicUser|UMask|NoNewPrivileges|Protect\w+|Private\w+|DevicePolicy|Restrict\w+|"
                       r"LockPersonality|MemoryDenyWriteExecute|RemoveIPC|CapabilityBoundingSet|AmbientCapabilities|"
                       r"SystemCall\w+|ProcSubset|Limit\w+|LoadCredential|SupplementaryGroups|WatchdogSec|"
                       r"Restart\w*|SuccessExitStatus|Type|NotifyAccess|KillSignal|TimeoutStopSec)=.*$", re.M)


def man_tree(h):
    """Documentation=man:... is checked by verify: give it the pages."""
    root = h.path("man")
    for section, page in (("man8", "superventd.8"), ("man1", "supervent-ctl.1")):
        os.makedirs(os.path.join(root, section), exist_ok=True)
        shutil.copy(os.path.join(harness.REPO_DIR, "man", page), os.path.join(root, section, page))
    return root


def check_template(h):
    with open(TEMPLATE) as f:
        template = f.read()
    with open(SERVICE) as f:
        service = f.read()
    for line in ("ExecStart=/usr/bin/superventd --config /etc/supervent/%i.toml --socket /run/supervent/%i.sock",
                 "StateDirectory=supervent/%i", "RuntimeDirectory=supervent supervent/%i", "RuntimeDirectoryPreserve=yes"):
        check(re.search("^" + re.escape(line) + "$", template, re.M), f"the template lacks '{line}'")
    missing = set(HARDENING.findall(service)) - set(HARDENING.findall(template))
    check(not missing, f"the template lacks superventd.service's lines: {sorted(missing)}")
    unit_dir = h.path("units")
    os.makedirs(unit_dir)
    unit = os.path.join(unit_dir, "superventd@.service")
    with open(unit, "w") as f:
        f.write(template.replace("/usr/bin/superventd", h.bin("superventd")))
    verify = h.run("verify", ["systemd-analyze", "verify", unit], timeout_s=60, env={"MANPATH": man_tree(h)})
    check(verify.rc == 0 and not verify.stdout.strip() and not verify.stderr.strip(),
          f"systemd-analyze verify: rc {verify.rc}: {verify.stdout} {verify.stderr}")
    security = h.run("security", ["systemd-analyze", "security", "--offline=yes", unit], timeout_s=60)
    match = re.search(r"Overall exposure level for superventd@\S*: (\d+\.\d+)", security.stdout + security.stderr)
    check(match is not None, f"no exposure level in: {security.stdout[-500:]} {security.stderr[-500:]}")
    check(float(match.group(1)) <= 2.0, f"exposure {match.group(1)} > 2.0")
    h.log(f"template verified; exposure {match.group(1)}")


def check_installed(h):
    prefix = h.path("prefix/usr")
    result = h.run("install", ["cmake", "--install", os.path.dirname(h.bin_dir), "--prefix", prefix], timeout_s=120)
    check(result.rc == 0, f"cmake --install failed: {result.stderr}")
    with open(os.path.join(prefix, "lib/systemd/system/superventd@.service")) as f:
        text = f.read()
    check(f"ExecStart={prefix}/bin/superventd --config {prefix}/etc/supervent/%i.toml" in text,
          f"the installed template does not point at the installed files:\n{text}")


def check_instance_option(h):
    ctl = h.bin("supervent-ctl")
    both = h.run("both", [ctl, "--instance", "a", "--socket", h.path("x.sock"), "status"], timeout_s=10)
    check(both.rc == 2 and "--instance" in both.stderr, f"--instance with --socket: {both.rc} {both.stderr}")
    slash = h.run("slash", [ctl, "--instance", "../etc/x", "status"], timeout_s=10)
    check(slash.rc == 2 and "instance" in slash.stderr, f"--instance ../etc/x: {slash.rc} {slash.stderr}")
    name = f"e2e-{uuid.uuid4().hex[:12]}"
    made = not os.path.isdir("/run/supervent")
    try:
        os.makedirs("/run/supervent", exist_ok=True)
    except OSError as error:
        h.log(f"cannot make /run/supervent ({error}): --instance's socket is checked by its message only")
        absent = h.run("absent", [ctl, "--instance", name, "status"], timeout_s=10)
        check(absent.rc == 3 and f"/run/supervent/{name}.sock" in absent.stderr, f"{absent.rc} {absent.stderr}")
        return
    socket_path = f"/run/supervent/{name}.sock"
    try:
        daemon = h.start("superventd", [h.bin("superventd"), "--sink", "discard:", "--rate", "1000", "--workers", "1",
                                        "--no-pin", "--socket", socket_path], timeout_s=60)
        harness.wait_running(h, daemon, socket_path)
        status = h.run("instance-status", [ctl, "--instance", name, "--json", "status"], timeout_s=10)
        check(status.rc == 0 and status.json()["state"] == "running", f"--instance {name}: {status.rc} {status.stderr}")
        stop = h.run("instance-stop", [ctl, "--instance", name, "stop"], timeout_s=30)
        check(stop.rc == 0, f"--instance {name} stop: {stop.stderr}")
        check(daemon.wait(timeout_s=20) == 0, "superventd did not exit 0")
    finally:
        if os.path.exists(socket_path):
            os.unlink(socket_path)
        if made:
            try:
                os.rmdir("/run/supervent")  # only if empty: another daemon may have come
            except OSError:
                pass


def test(h):
    check_template(h)
    check_installed(h)
    check_instance_option(h)


if __name__ == "__main__":
    harness.main(test)
