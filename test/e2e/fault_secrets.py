#!/usr/bin/env python3
"""e2e.fault_secrets: the token never leaks. superventd runs with a token
from a world-readable --token-file, at log level debug, with a control socket
and a metrics endpoint, as an unprivileged user:
- the token is in no log line, no status/sources/version reply, no metrics scrape;
- the world-readable token file is warned about at start-up (path and mode);
- the process is not dumpable (PR_SET_DUMPABLE 0), which shows as its /proc
  files belonging to root although it runs as nobody;
- the send buffers (every request head holds the token) are excluded from
  core dumps: a mapping of the arena's size carries VmFlags 'dd'."""

import os
import re
import urllib.request

import harness
from harness import check

TOKEN = "xaat-fault-secrets-7d1e0c55aa"
NOBODY = 65534


def test(h):
    sink = h.start_sink(verify=False, report=True)
    os.chmod(h.dir, 0o711)  # nobody may pass through the test's private dir to shared/
    shared = h.path("shared")
    os.mkdir(shared)
    os.chmod(shared, 0o777)
    token_file = os.path.join(shared, "token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(token_file, 0o644)
    sock = os.path.join(shared, "ctl.sock")
    port = harness.free_port()
    argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
            "--clear-groups", h.bin("superventd"), "--sink", sink.url, "--rate", 5000, "--workers", 1,
            "--no-pin", "--token-file", token_file, "--log-level", "debug", "--socket", sock,
            "--metrics-listen", f"127.0.0.1:{port}"]
    daemon = h.start("superventd", argv, timeout_s=60)
    status = harness.wait_running(h, daemon, sock)
    # setpriv execs superventd: the child is the daemon.
    pid = daemon.pid
    with open(f"/proc/{pid}/status") as f:
        proc_status = f.read()
    check(re.search(rf"^Uid:\s+{NOBODY}\b", proc_status, re.M), f"superventd does not run as {NOBODY}:\n{proc_status}")
    owner = os.stat(f"/proc/{pid}/environ").st_uid
    check(owner == 0, f"/proc/{pid}/environ belongs to uid {owner}: the process holding a token is still dumpable")

    with open(f"/proc/{pid}/smaps") as f:
        smaps = f.read()
    dont_dump = [int(m.group(1)) for m in re.finditer(r"^Size:\s+(\d+) kB(?:(?!^[0-9a-f]+-).)*?^VmFlags:[^\n]*\bdd\b",
                                                       smaps, re.M | re.S)]
    check(any(kib >= 1024 for kib in dont_dump),
          f"no mapping of 1 MiB or more is excluded from core dumps (VmFlags dd): {dont_dump} kB")

    replies = []
    for command in ("status", "sources", "version"):
        replies.append(harness.ctl(h, f"ctl-{command}", sock, [command], json_out=False).stdout)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        metrics = reply.read().decode()
    check("supervent_events_generated_total" in metrics, "the metrics scrape looks empty")
    harness.ctl(h, "ctl-stop", sock, ["stop"], json_out=False)
    rc = daemon.wait(timeout_s=30)
    check(rc == 0, f"superventd exited {rc}")
    stderr = daemon.stderr()
    check("readable by every user" in stderr and token_file in stderr and "0644" in stderr,
          f"no start-up warning about the world-readable token file:\n{stderr}")
    for where, text in (("the log", stderr), ("a ctl reply", "\n".join(replies)), ("the metrics", metrics)):
        check(TOKEN not in text, f"the token appears in {where}")
    report = sink.stop()
    check(report["events"] > 0, "nothing arrived at the sink")


if __name__ == "__main__":
    harness.main(test)
