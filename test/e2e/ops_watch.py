#!/usr/bin/env python3
"""e2e.ops_watch: `supervent-ctl watch` on a bounded run refreshes the status
table with a progress bar and an ETA until the daemon exits, then exits 0;
--json prints one status object per refresh; --count bounds it; usage errors
exit 2 and an unreachable daemon 3."""

import json
import re

import harness
from harness import check


def test(h):
    ctl = h.bin("supervent-ctl")
    sock = h.path("ctl.sock")
    daemon = h.start("superventd", [h.bin("superventd"), "--sink", "discard:", "--rate", 20000, "--events", 60000,
                                    "--workers", 2, "--socket", sock], timeout_s=60)
    harness.wait_running(h, daemon, sock)
    counted = h.run("watch-json", [ctl, "--socket", sock, "--json", "watch", "--interval", "0.2", "--count", "3"],
                    timeout_s=20)
    check(counted.rc == 0, f"watch --count 3 exited {counted.rc}: {counted.stderr}")
    objects = [json.loads(line) for line in counted.stdout.splitlines()]
    check(len(objects) == 3 and all(o["ok"] and o["events_target"] == 60000 for o in objects),
          f"watch --json --count 3 printed {len(objects)} objects: {counted.stdout[:500]}")
    generated = [o["events_generated"] for o in objects]
    check(generated == sorted(generated) and generated[-1] > generated[0], f"no progress between refreshes: {generated}")

    watch = h.run("watch", [ctl, "--socket", sock, "watch", "--interval", "0.3"], timeout_s=30)
    check(watch.rc == 0, f"watch exited {watch.rc} when the daemon finished: {watch.stderr}")
    check(watch.stdout.rstrip().endswith("superventd has exited"), f"watch's last line: {watch.stdout[-200:]!r}")
    bars = re.findall(r"progress\s+\[([#.]{40})\]\s+([\d.]+) %\s+ETA (\S+)", watch.stdout)
    check(len(bars) >= 3, f"fewer than 3 progress bars in watch's output:\n{watch.stdout[-2000:]}")
    shares = [float(share) for _, share, _ in bars]
    check(shares == sorted(shares) and shares[-1] > shares[0], f"progress did not grow: {shares}")
    check(all(eta == "unknown" or re.fullmatch(r"\d+s|\d+m\d\ds|\d+h\d\dm\d\ds", eta) for _, _, eta in bars),
          f"ETAs: {[eta for _, _, eta in bars]}")
    check(watch.stdout.count("state        ") == len(bars), "a refresh without its status table")
    check(daemon.wait(timeout_s=10) == 0, "the bounded run did not exit 0")

    unreachable = h.run("watch-unreachable", [ctl, "--socket", sock, "watch"], timeout_s=10)
    check(unreachable.rc == 3, f"watch with no daemon exited {unreachable.rc}, expected 3")
    usage = h.run("watch-usage", [ctl, "--socket", sock, "watch", "--interval", "0"], timeout_s=10)
    check(usage.rc == 2, f"watch --interval 0 exited {usage.rc}, expected 2")
    usage = h.run("rate-usage", [ctl, "--socket", sock, "rate"], timeout_s=10)
    check(usage.rc == 2, f"rate without a value exited {usage.rc}, expected 2")


if __name__ == "__main__":
    harness.main(test)
