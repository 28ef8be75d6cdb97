#!/usr/bin/env python3
"""e2e.sigterm_drain: SIGTERM during an unbounded run at an unlimited rate
makes superventd stop generating, settle every batch in flight and exit 0
within seconds; the sink then holds exactly the events the daemon counted as
acknowledged: nothing lost, nothing counted twice."""

import signal
import time

import harness
from harness import check

DRAIN_LIMIT_S = 10


def run_and_terminate(h, tag, sink_args):
    """Starts a sink and a daemon, SIGTERMs the daemon mid-run; checks the
    drain. Returns the seconds from SIGTERM to exit."""
    sink = h.start_sink(name=f"sink-{tag}", verify=True, report=True, extra_args=sink_args)
    sock = h.path(f"ctl-{tag}.sock")
    daemon = h.start(f"superventd-{tag}", [h.bin("superventd"), "--sink", sink.url, "--rate", "unlimited",
                                           "--socket", sock], timeout_s=60)

    def sending():
        check(daemon.running(), f"superventd exited with {daemon.poll()} before SIGTERM")
        return sink.stats()["events"] > 0
    h.wait_for("the sink to receive events", sending, timeout_s=20, interval_s=0.1)
    time.sleep(1.0)  # full speed, batches in flight
    status = harness.ctl_json(h, f"ctl-status-{tag}", sock, "status")
    before = sink.stats()["events"]
    check(daemon.running(), f"superventd exited with {daemon.poll()} before SIGTERM")

    h.log(f"[{tag}] SIGTERM with {before} events at the sink, {status['events_in_flight']} in flight a moment ago")
    sent_at = time.monotonic()
    daemon.signal(signal.SIGTERM)
    rc = daemon.wait(timeout_s=DRAIN_LIMIT_S)
    drain_s = time.monotonic() - sent_at
    h.log(f"[{tag}] superventd exited {rc} {drain_s:.2f} s after SIGTERM")
    check(rc == 0, f"[{tag}] superventd exited {rc} after SIGTERM, expected 0 (a drained stop is a clean stop)")
    stderr = daemon.stderr()
    check("SIGTERM" in stderr, f"[{tag}] superventd did not say it was stopping on SIGTERM")
    summary = harness.require_summary(stderr)
    h.log(f"[{tag}] daemon summary: {summary}")
    report = harness.check_drained_exactly(h, summary, sink, before, tag)
    check(report["rejected_requests"] == 0, f"[{tag}] {report['rejected_requests']} rejected requests")
    return status["events_in_flight"]


def test(h):
    # A fast sink: batches are short-lived, SIGTERM lands between and during them.
    run_and_terminate(h, "fast", [])
    # A slow sink (every answer 300 ms late): SIGTERM certainly finds batches
    # sent but unanswered, and the drain must wait for their answers.
    in_flight = run_and_terminate(h, "slow", ["--faults", "delay=300ms@100%"])
    check(in_flight > 0, "with a 300 ms sink no batch was in flight before SIGTERM: the slow case tested nothing")


if __name__ == "__main__":
    harness.main(test)
