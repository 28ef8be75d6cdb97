#!/usr/bin/env python3
"""e2e.exact_delivery: superventd --events 1000000 against supervent-sink
--verify delivers exactly one million valid events, exits 0, and its summary
agrees with what the sink counted."""

import harness
from harness import check

EVENTS = 1_000_000


def test(h):
    sink = h.start_sink(verify=True, report=True)
    daemon = h.run("superventd", [h.bin("superventd"), "--sink", sink.url, "--events", EVENTS,
                                  "--socket", h.path("ctl.sock")], timeout_s=90)
    check(daemon.rc == 0, f"superventd exited {daemon.rc}, expected 0 (every event acknowledged)")
    summary = harness.require_summary(daemon.stderr)
    h.log(f"daemon summary: {summary}, {daemon.elapsed_s:.2f} s, {EVENTS / daemon.elapsed_s:,.0f} events/s")

    report = sink.stop()
    h.log(f"sink report: {report}")
    check(report["events"] == EVENTS, f"sink counted {report['events']} events, expected exactly {EVENTS}")
    check(report["invalid_events"] == 0, f"sink found {report['invalid_events']} invalid events, expected 0")
    check(report["rejected_requests"] == 0, f"sink rejected {report['rejected_requests']} requests")
    dataset = report["datasets"].get("supervent")
    check(dataset is not None and dataset["events"] == EVENTS,
          f"dataset 'supervent' should hold all {EVENTS} events: {report['datasets']}")
    check(summary == {"generated": EVENTS, "acked": EVENTS, "failed": 0, "in_flight": 0},
          f"daemon summary {summary} should be {EVENTS} generated = acked, 0 failed, 0 in flight")
    # Batches of at most 10,000 events (Axiom's limit): at least 100 requests.
    check(report["requests"] >= EVENTS // 10_000,
          f"{report['requests']} requests for {EVENTS} events: more than 10,000 events per request")


if __name__ == "__main__":
    harness.main(test)
