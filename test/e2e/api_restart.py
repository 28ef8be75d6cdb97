#!/usr/bin/env python3
"""e2e.api_restart: the Elasticsearch and Loki receivers stopped mid-run and
started again on the same port while superventd sends at 4,000 events/s:
nothing is lost. Every event generated is acknowledged (batches are retried
by time through the 1.5 s outage), none fails, and the receivers together
stored at least every acknowledged event and at most what the daemon's
ambiguous requests (cut off after being wholly sent) may have duplicated."""

import random
import socket
import time

import harness
from harness import check
import api_common as ac

RATE = 4_000
BATCH = 400


def port_outside_ephemeral_range():
    """A free port below Linux's ephemeral range (ip_local_port_range starts at
    32768): while this test's receiver is down, a test running beside it that
    binds port 0 cannot be handed this port and take its traffic."""
    low, _high = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    for _ in range(50):
        port = random.randrange(20000, max(20001, min(low, 32768)))
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    return 0  # none found: let the kernel pick (the race above is then possible)


def run(h, api):
    first = ac.ApiReceiver(h, api, f"{api}-1", port=port_outside_ephemeral_range())
    port = first.port
    daemon = h.start(f"superventd-{api}", [h.bin("superventd"), "--sink", ac.sink_url(api, port), "--token-file",
                                           ac.token_file(h), "--socket", h.path(f"{api}.sock"), "--rate", str(RATE), "--batch-events", str(BATCH),
                                           "--workers", "1", "--duration", "7", "--request-timeout", "3s",
                                           "--connect-timeout", "1s"], timeout_s=60)
    time.sleep(2.5)
    stored = first.stop()["events"]
    check(stored > 0, f"[{api}] nothing reached the first receiver")
    time.sleep(1.5)
    second = ac.ApiReceiver(h, api, f"{api}-2", port=port)
    rc = daemon.wait(timeout_s=45)
    stored += second.stop()["events"]
    summary = harness.require_summary(daemon.stderr())
    h.log(f"[{api}] {summary}, receivers stored {stored}")
    check(rc == 0, f"[{api}] superventd exited {rc}")
    check(summary["failed"] == 0 and summary["in_flight"] == 0, f"[{api}] events failed or left: {summary}")
    check(summary["acked"] == summary["generated"], f"[{api}] {summary}")
    check(stored >= summary["acked"], f"[{api}] lost {summary['acked'] - stored} acknowledged events")
    # Only a request cut off after it was sent may come twice: at most the slots' worth of batches.
    check(stored - summary["acked"] <= 4 * BATCH, f"[{api}] {stored - summary['acked']} events stored twice")


def test(h):
    run(h, "elasticsearch")
    run(h, "loki")


if __name__ == "__main__":
    harness.main(test)
