#!/usr/bin/env python3
"""e2e.bad_sink: sinks that never take an event. superventd --events 1000
gives up in bounded time, exits 1 (3, fatal, for a 401), and accounts for every event:
generated == failed, nothing acknowledged or in flight, with the reason in
its summary. Cases: a refused port (connect), a sink that closes every
connection unanswered (transport), one that always answers 503
(server_error, retried), one that answers 401 (rejected, not retried, and
the operator is told the token is the problem). Batches are retried by time:
`--retry-for 2s` bounds the first three (by default they would be retried
for 10 minutes); each must still take at least those 2 s."""

import re
import socket
import time

import harness
from harness import check

EVENTS = 1000
WORKERS = 2  # 1000 events over 2 workers with batches of 2000: one batch each
GIVE_UP_LIMIT_S = 60
RETRY_FOR_S = 2


def run_daemon(h, tag, url, expect_rc=1):
    """expect_rc: 1 (events failed) when a retry might have helped, 3 (fatal)
    when the sink refused us for good."""
    started = time.monotonic()
    daemon = h.run(f"superventd-{tag}", [h.bin("superventd"), "--sink", url, "--events", EVENTS, "--workers", WORKERS,
                                         "--socket", h.path(f"ctl-{tag}.sock"), "--retry-for", f"{RETRY_FOR_S}s"],
                   timeout_s=GIVE_UP_LIMIT_S)
    took_s = time.monotonic() - started
    h.log(f"[{tag}] superventd gave up after {took_s:.2f} s with exit {daemon.rc}; stderr:\n{daemon.stderr}")
    check(daemon.rc == expect_rc, f"[{tag}] superventd exited {daemon.rc}, expected {expect_rc} "
                                  f"({'fatal' if expect_rc == 3 else 'events failed'})")
    summary = harness.require_summary(daemon.stderr)
    check(summary["generated"] == EVENTS, f"[{tag}] generated {summary['generated']}, expected {EVENTS}: {summary}")
    check(summary["failed"] == summary["generated"] and summary["acked"] == 0 and summary["in_flight"] == 0,
          f"[{tag}] every event must be accounted for as failed (generated == failed, none acked or in "
          f"flight): {summary}")
    print(f"TIMING bad_sink[{tag}]: gave up after {took_s:.2f} s", flush=True)
    check(took_s >= RETRY_FOR_S or tag == "401", f"[{tag}] gave up after {took_s:.2f} s, before --retry-for {RETRY_FOR_S}s")
    return daemon


def retried(stderr):
    match = re.search(r"summary: .*?([\d,]+) requests? sent, ([\d,]+) acknowledged, ([\d,]+) retried", stderr)
    check(match is not None, f"the summary does not say how many requests were retried:\n{stderr}")
    check(int(match.group(1).replace(",", "")) > 0, f"the summary says no request was sent, though every one failed:\n{stderr}")
    return int(match.group(3).replace(",", ""))


def test(h):
    # 1. A port bound but not listening: connects are refused, and no other
    # process can start listening on it while the test runs.
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    try:
        daemon = run_daemon(h, "refused", f"http://127.0.0.1:{holder.getsockname()[1]}")
    finally:
        holder.close()
    check("failed: connect" in daemon.stderr,
          f"[refused] the summary does not give 'connect' as the reason events failed:\n{daemon.stderr}")

    # 2. A sink that reads the request head and closes without answering.
    sink = h.start_sink(name="sink-close", verify=False, report=True, extra_args=["--faults", "close@100%"])
    daemon = run_daemon(h, "close", sink.url)
    check("failed: transport" in daemon.stderr,
          f"[close] the summary does not give 'transport' as the reason events failed:\n{daemon.stderr}")
    report = sink.stop()
    check(report["faults_injected"] >= WORKERS, f"[close] the sink saw {report['faults_injected']} requests, "
                                                f"fewer than the {WORKERS} batches")

    # 3. A sink that always answers 503: retried, then failed.
    sink = h.start_sink(name="sink-503", verify=False, report=True, extra_args=["--faults", "status=503@100%"])
    daemon = run_daemon(h, "503", sink.url)
    check("failed: server_error" in daemon.stderr,
          f"[503] the summary does not give 'server_error' as the reason events failed:\n{daemon.stderr}")
    check(retried(daemon.stderr) > 0, f"[503] a 503 was not retried:\n{daemon.stderr}")
    sink.stop()

    # 4. A sink that answers 401: not retried, and the operator learns why.
    sink = h.start_sink(name="sink-401", verify=False, report=True, extra_args=["--faults", "status=401@100%"])
    daemon = run_daemon(h, "401", sink.url, expect_rc=3)
    check("failed: rejected" in daemon.stderr,
          f"[401] the summary does not give 'rejected' as the reason events failed:\n{daemon.stderr}")
    check(retried(daemon.stderr) == 0, f"[401] a 401 was retried:\n{daemon.stderr}")
    report = sink.stop()
    check(report["rejected_requests"] == WORKERS,
          f"[401] the sink answered {report['rejected_requests']} requests with 401; expected one per batch "
          f"({WORKERS}), no retries")
    check("401" in daemon.stderr and re.search(r"token", daemon.stderr, re.I),
          f"[401] superventd does not tell the operator the sink answered 401 (a missing or invalid token); "
          f"its stderr only says:\n{daemon.stderr}")


if __name__ == "__main__":
    harness.main(test)
