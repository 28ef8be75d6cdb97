#!/usr/bin/env python3
"""superventd --watch-config follows its config file while traffic flows.

The config sits in a directory laid out as a Kubernetes ConfigMap volume:
superventd.toml -> ..data/superventd.toml, ..data -> ..2026_01_01 (a
timestamped directory). Then, with the daemon sending to supervent-sink:
1. the file is edited in place (through the symlinks): the rate follows;
2. a bad value is written: the reload is refused and logged, the daemon runs
   on at the old rate, and the reload count does not move;
3. the kubelet's atomic update: a new timestamped directory, a ..data_tmp
   symlink to it renamed over ..data, the old directory removed: the rate
   follows again.
At the end the daemon stops cleanly with every event acknowledged, and the
sink counted exactly those.
"""
import itertools
import os
import shutil
import time

import harness
from harness import check, ctl_json

CONFIG = """[runtime]
workers = 1
socket = "{socket}"

[sink]
url = "{sink}"

[generation]
rate = {rate}
"""


PROBES = itertools.count()


def wait_rate(h, socket_path, rate, reloads, what):
    def follows():
        status = ctl_json(h, f"status-{next(PROBES)}", socket_path, "status")
        follows.status = status
        return status["rate_target"] == rate
    h.wait_for(f"{what}: rate_target {rate}", follows, timeout_s=10, interval_s=0.2)
    check(follows.status["reloads"] == reloads, f"{what}: {follows.status['reloads']} reloads, expected {reloads}")
    check(follows.status["state"] == "running", f"{what}: state {follows.status['state']}")
    h.log(f"{what}: the daemon runs at {rate} events/s after {reloads} reloads")
    return follows.status


def test(h):
    sink = h.start_sink()
    socket_path = h.path("superventd.sock")
    conf = h.path("conf")
    os.makedirs(os.path.join(conf, "..2026_01_01"))
    with open(os.path.join(conf, "..2026_01_01", "superventd.toml"), "w") as f:
        f.write(CONFIG.format(socket=socket_path, sink=sink.url, rate=2000))
    os.symlink("..2026_01_01", os.path.join(conf, "..data"))
    os.symlink("..data/superventd.toml", os.path.join(conf, "superventd.toml"))
    config_path = os.path.join(conf, "superventd.toml")
    daemon = h.start("superventd", [h.bin("superventd"), "--config", config_path, "--watch-config", "--no-pin"],
                     timeout_s=90)
    harness.wait_running(h, daemon, socket_path)
    wait_rate(h, socket_path, 2000, 0, "start")

    # 1. An edit in place, through both symlinks.
    with open(config_path, "w") as f:
        f.write(CONFIG.format(socket=socket_path, sink=sink.url, rate=3000))
    wait_rate(h, socket_path, 3000, 1, "edit in place")

    # 2. A bad edit: refused, logged, nothing changes, the run goes on.
    with open(config_path, "w") as f:
        f.write(CONFIG.format(socket=socket_path, sink=sink.url, rate='"fast"'))
    h.wait_for("the refusal in the log", lambda: "reload of" in daemon.stderr() and "refused" in daemon.stderr(),
               timeout_s=10)
    refusal = [line for line in daemon.stderr().splitlines() if "refused" in line]
    check(any("generation.rate" in line for line in refusal), f"the refusal does not name the key: {refusal}")
    before = ctl_json(h, "status-after-bad", socket_path, "status")["events_acked"]
    time.sleep(1.0)
    status = wait_rate(h, socket_path, 3000, 1, "bad edit")
    check(status["events_acked"] > before, "the run stopped sending after a refused reload")

    # 3. The kubelet's atomic update of a ConfigMap volume.
    os.makedirs(os.path.join(conf, "..2026_01_02"))
    with open(os.path.join(conf, "..2026_01_02", "superventd.toml"), "w") as f:
        f.write(CONFIG.format(socket=socket_path, sink=sink.url, rate=4000))
    os.symlink("..2026_01_02", os.path.join(conf, "..data_tmp"))
    os.replace(os.path.join(conf, "..data_tmp"), os.path.join(conf, "..data"))
    shutil.rmtree(os.path.join(conf, "..2026_01_01"))
    wait_rate(h, socket_path, 4000, 2, "ConfigMap swap")

    # A touch or a swap to the same bytes is no reload.
    os.utime(os.path.join(conf, "..2026_01_02", "superventd.toml"))
    time.sleep(1.0)
    wait_rate(h, socket_path, 4000, 2, "touch")

    stop = ctl_json(h, "stop", socket_path, "stop")
    check(stop["ok"], f"stop: {stop}")
    check(daemon.wait(timeout_s=30) == 0, "superventd did not exit 0")
    summary = harness.require_summary(daemon.stderr())
    harness.check_drained_exactly(h, summary, sink, 1, "watch-config")


if __name__ == "__main__":
    harness.main(test)
