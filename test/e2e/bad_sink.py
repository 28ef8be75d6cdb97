#!/usr/bin/env python3
"""e2e.bad_sink: a sink nobody listens on. superventd --events 1000 gives up
in bounded time, exits non-zero, and accounts for every event: generated ==
failed, with the reason (connect) in its summary and nothing acknowledged."""

import socket
import time

import harness
from harness import check

EVENTS = 1000
GIVE_UP_LIMIT_S = 60


def test(h):
    # A port bound but not listening: connects are refused, and no other
    # process can start listening on it while the test runs.
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    try:
        started = time.monotonic()
        daemon = h.run("superventd", [h.bin("superventd"), "--sink", f"http://127.0.0.1:{port}", "--events", EVENTS,
                                      "--socket", h.path("ctl.sock")], timeout_s=GIVE_UP_LIMIT_S)
        took_s = time.monotonic() - started
    finally:
        holder.close()
    h.log(f"superventd gave up on a refused sink after {took_s:.2f} s with exit {daemon.rc}")
    h.log(f"stderr:\n{daemon.stderr}")
    check(daemon.rc != 0, "superventd exited 0 although no event could be delivered")
    summary = harness.require_summary(daemon.stderr)
    check(summary["generated"] == EVENTS, f"generated {summary['generated']}, expected {EVENTS}: {summary}")
    check(summary["failed"] == summary["generated"] and summary["acked"] == 0 and summary["in_flight"] == 0,
          f"every event must be accounted for as failed (generated == failed, none acked or in flight): {summary}")
    check("failed: connect" in daemon.stderr,
          f"the summary does not give 'connect' as the reason events failed:\n{daemon.stderr}")
    print(f"TIMING bad_sink: gave up after {took_s:.2f} s", flush=True)


if __name__ == "__main__":
    harness.main(test)
