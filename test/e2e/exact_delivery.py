#!/usr/bin/env python3
"""e2e.exact_delivery: superventd --events 1000000 against supervent-sink
--verify delivers exactly one million valid events and exits 0; its summary
agrees with what the sink counted, and supervent-ctl status, polled during
the run, reports the target and counters that only ever add up."""

import time

import harness
from harness import check

EVENTS = 1_000_000


def check_status(status, previous):
    check(status.get("state") in ("starting", "running", "draining", "finished"),
          f"unexpected state {status.get('state')!r} in a healthy run")
    check(status.get("events_target") == EVENTS, f"events_target is {status.get('events_target')!r}, expected {EVENTS}")
    generated, acked, failed = status["events_generated"], status["events_acked"], status["events_failed"]
    check(failed == 0, f"{failed} events failed against a healthy sink")
    check(acked <= generated <= EVENTS, f"expected acked {acked} <= generated {generated} <= {EVENTS}")
    check(status["events_in_flight"] == generated - acked - failed,
          f"events_in_flight {status['events_in_flight']} != generated - acked - failed in {status}")
    if previous is not None:
        check(generated >= previous["events_generated"] and acked >= previous["events_acked"],
              f"counters went backwards: {previous['events_generated']}/{previous['events_acked']} then "
              f"{generated}/{acked} (generated/acked)")


def test(h):
    sink = h.start_sink(verify=True, report=True)
    sock = h.path("ctl.sock")
    daemon = h.start("superventd", [h.bin("superventd"), "--sink", sink.url, "--events", EVENTS, "--socket", sock],
                     timeout_s=90)

    # Poll status with the CLI until the daemon has gone (exit 3: unreachable).
    polls, previous = 0, None
    while daemon.running() and polls < 500:
        polls += 1
        result = h.run(f"ctl-status-{polls}", [h.bin("supervent-ctl"), "--socket", sock, "--json", "status"],
                       timeout_s=15)
        if result.rc == 3:
            continue  # not listening yet, or already gone
        check(result.rc == 0, f"supervent-ctl --json status exited {result.rc}: {result.stderr}")
        status = result.json()
        check_status(status, previous)
        previous = status
        time.sleep(0.2)  # each poll is a process start: leave the CPUs to the run
    rc = daemon.wait(timeout_s=90)
    check(rc == 0, f"superventd exited {rc}, expected 0 (every event acknowledged)")
    check(previous is not None, f"no status answered in {polls} polls during the run")
    h.log(f"{polls} status polls; the last saw {previous['events_acked']} acked, state {previous['state']}")
    summary = harness.require_summary(daemon.stderr())
    elapsed = daemon.elapsed_s()
    h.log(f"daemon summary: {summary}, {elapsed:.2f} s, {EVENTS / elapsed:,.0f} events/s")

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
