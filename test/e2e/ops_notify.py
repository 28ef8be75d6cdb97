#!/usr/bin/env python3
"""e2e.ops_notify: plays systemd's side of the notify protocol against the
real daemon. A datagram socket stands in for NOTIFY_SOCKET; the test checks
READY=1 comes once the shards run and before anything else, STATUS= carries
the live rate, WATCHDOG=1 arrives within WATCHDOG_USEC, a SIGHUP reload is
wrapped in RELOADING=1 (with MONOTONIC_USEC) ... READY=1 (also when the
reload is refused), SIGTERM brings STOPPING=1 and exit 0, and a
WATCHDOG_PID naming another process turns the pings off."""

import os
import signal
import socket
import threading
import time

import harness
from harness import check, ctl


class FakeSystemd:
    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []  # (monotonic time, {key: value}) in arrival order
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            with self.lock:
                self.messages.append((time.monotonic(), fields))

    def keys(self):
        with self.lock:
            return [(t, dict(m)) for t, m in self.messages]

    def wait_for(self, h, what, predicate, timeout_s=10):
        h.wait_for(what, lambda: any(predicate(m) for _, m in self.keys()), timeout_s=timeout_s)

    def close(self):
        self.done = True
        self.thread.join()
        self.sock.close()


def test(h):
    systemd = FakeSystemd(h.path("notify.sock"))
    try:
        run(h, systemd)
    finally:
        systemd.close()


def run(h, systemd):
    config = h.path("a.toml")
    with open(config, "w") as f:
        f.write("[generation]\nrate = 3000\n")
    sock = h.path("ctl.sock")
    env = {"NOTIFY_SOCKET": systemd.path, "WATCHDOG_USEC": "400000"}
    daemon = h.start("superventd", [h.bin("superventd"), "--config", config, "--sink", "discard:", "--workers", 2,
                                    "--socket", sock], timeout_s=60, env=env)
    systemd.wait_for(h, "READY=1", lambda m: m.get("READY") == "1")
    time.sleep(1.6)
    messages = systemd.keys()
    check(messages[0][1].get("READY") == "1", f"the first notification is not READY=1: {messages[0][1]}")
    status = ctl(h, "ctl-status", sock, ["status"])
    check(status["state"] == "running", "READY=1 came but the daemon is not running")
    statuses = [m["STATUS"] for _, m in messages if "STATUS" in m and "events/s" in m["STATUS"]]
    check(statuses, f"no STATUS= with the rate: {[m for _, m in messages]}")
    check("target 3000" in statuses[-1], f"STATUS= does not carry the target rate: {statuses[-1]!r}")
    pings = [t for t, m in messages if m.get("WATCHDOG") == "1"]
    check(len(pings) >= 4, f"{len(pings)} WATCHDOG=1 in 1.6 s with WATCHDOG_USEC=400000")
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    check(max(gaps) < 0.4, f"watchdog pings {max(gaps):.3f} s apart, more than WATCHDOG_USEC")

    # SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1.
    count = len(systemd.keys())
    daemon.signal(signal.SIGHUP)
    systemd.wait_for(h, "READY=1 after the SIGHUP reload",
                     lambda m: m.get("READY") == "1" and "reloaded" in m.get("STATUS", ""))
    after = [m for _, m in systemd.keys()[count:]]
    reloading = [i for i, m in enumerate(after) if m.get("RELOADING") == "1"]
    ready = [i for i, m in enumerate(after) if m.get("READY") == "1"]
    check(reloading and ready and reloading[0] < ready[0], f"RELOADING=1 ... READY=1 out of order: {after}")
    usec = int(after[reloading[0]]["MONOTONIC_USEC"])
    now_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    check(0 < now_usec - usec < 10_000_000, f"MONOTONIC_USEC={usec} is not a recent CLOCK_MONOTONIC time")

    # A refused reload: still RELOADING=1 ... READY=1, and the daemon runs on.
    count = len(systemd.keys())
    bad = h.path("bad.toml")
    with open(bad, "w") as f:
        f.write("[generation]\nrate = 'fast'\n")
    ctl(h, "ctl-reload-bad", sock, ["reload", bad], expect_rc=1)
    systemd.wait_for(h, "READY=1 after a refused reload", lambda m: "reload refused" in m.get("STATUS", ""))
    after = [m for _, m in systemd.keys()[count:]]
    check(any(m.get("RELOADING") == "1" for m in after), f"no RELOADING=1 for the refused reload: {after}")

    # SIGTERM: STOPPING=1, then exit 0.
    daemon.signal(signal.SIGTERM)
    rc = daemon.wait(timeout_s=15)
    check(rc == 0, f"superventd exited {rc} after SIGTERM")
    check(any(m.get("STOPPING") == "1" for _, m in systemd.keys()), "no STOPPING=1 on SIGTERM")

    # WATCHDOG_PID of another process: not our watchdog, no pings.
    count = len(systemd.keys())
    env = {"NOTIFY_SOCKET": systemd.path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": str(os.getpid())}
    other = h.start("superventd-other", [h.bin("superventd"), "--sink", "discard:", "--rate", 1000, "--workers", 1,
                                         "--socket", h.path("other.sock")], timeout_s=60, env=env)
    systemd.wait_for(h, "READY=1 from the second daemon",
                     lambda m: m.get("READY") == "1" and "shards running" in m.get("STATUS", ""))
    time.sleep(1.0)
    other.signal(signal.SIGTERM)
    check(other.wait(timeout_s=15) == 0, "the second daemon did not exit 0")
    pings = [m for _, m in systemd.keys()[count:] if m.get("WATCHDOG") == "1"]
    check(not pings, f"{len(pings)} WATCHDOG=1 although WATCHDOG_PID named another process")


if __name__ == "__main__":
    harness.main(test)
