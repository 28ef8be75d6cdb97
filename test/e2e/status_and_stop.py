#!/usr/bin/env python3
"""e2e.status_and_stop: a rate-limited unbounded run watched and stopped with
supervent-ctl. status reports consistent counters and the configured rate;
stop drains, both exit 0, and the sink holds exactly what the daemon says it
acknowledged. Also: ctl exit codes for an unreachable daemon and bad usage."""

import os
import re
import time

import harness
from harness import check

RATE = 5000
STATUS_FIELDS = ("state", "events_generated", "events_acked", "events_failed", "events_in_flight", "bytes_sent",
                 "rate_target", "rate_actual")


def test(h):
    ctl = h.bin("supervent-ctl")
    sink = h.start_sink(verify=True, report=True)
    sock = h.path("ctl.sock")
    daemon = h.start("superventd", [h.bin("superventd"), "--sink", sink.url, "--rate", RATE, "--socket", sock],
                     timeout_s=90)

    # Running: wait until the control socket answers with state "running".
    states = []

    def probe():
        check(daemon.running(), f"superventd exited with {daemon.poll()} while starting")
        probe.count += 1
        result = h.run(f"ctl-probe-{probe.count}", [ctl, "--socket", sock, "--json", "status"], timeout_s=15)
        if result.rc != 0:
            return False
        states.append(result.json()["state"])
        return states[-1] == "running"
    probe.count = 0
    h.wait_for("superventd to report state running", probe, timeout_s=20, interval_s=0.1)
    running_since = time.monotonic()

    # Rate samples are taken every 0.5 s; after ~2.5 s running they reflect
    # the steady state.
    time.sleep(2.5)
    status = harness.ctl_json(h, "ctl-status-json", sock, "status")
    h.log(f"status: { {k: status.get(k) for k in STATUS_FIELDS} }")
    for field in STATUS_FIELDS:
        check(field in status, f"status --json lacks '{field}': {status}")
    check(status["state"] == "running", f"state is {status['state']!r}, expected 'running'")
    generated, acked, failed = status["events_generated"], status["events_acked"], status["events_failed"]
    in_flight = status["events_in_flight"]
    for field in ("events_generated", "events_acked", "events_failed", "events_in_flight", "bytes_sent"):
        check(isinstance(status[field], int) and status[field] >= 0,
              f"{field} should be a non-negative integer, got {status[field]!r}")
    check(generated >= acked, f"events_generated {generated} < events_acked {acked}")
    check(in_flight == generated - acked - failed,
          f"events_in_flight {in_flight} != generated {generated} - acked {acked} - failed {failed}")
    check(failed == 0, f"{failed} events failed against a healthy sink")
    elapsed = time.monotonic() - running_since
    # Generated so far is bounded by the rate (plus one burst of tokens).
    check(0 < generated <= RATE * (elapsed + 1.5) + 2 * 10_000,
          f"{generated} events generated after {elapsed:.1f} s at --rate {RATE}")
    check(status["bytes_sent"] > 0, "bytes_sent is 0 after seconds of sending")
    check(status["rate_target"] == RATE, f"rate_target is {status['rate_target']!r}, expected {RATE}")
    rate_actual = status["rate_actual"]
    check(isinstance(rate_actual, (int, float)) and abs(rate_actual - RATE) <= 0.2 * RATE,
          f"rate_actual {rate_actual!r} is not within 20 % of {RATE}")

    # The readable table.
    table = h.run("ctl-status-table", [ctl, "--socket", sock, "status"], timeout_s=15)
    check(table.rc == 0, f"supervent-ctl status exited {table.rc}: {table.stderr}")
    h.log(f"status table:\n{table.stdout}")
    for word in ("state", "running", "generated", "acked", "failed", "in flight", "rate", "5,000"):
        check(word in table.stdout, f"the status table lacks {word!r}:\n{table.stdout}")

    # ctl usage and reachability errors, while a daemon is up.
    unknown = h.run("ctl-unknown", [ctl, "--socket", sock, "frobnicate"], timeout_s=15)
    check(unknown.rc == 2, f"an unknown command exited {unknown.rc}, expected 2 (usage)")
    check("frobnicate" in unknown.stderr, f"the usage error does not name the command: {unknown.stderr!r}")
    bad_option = h.run("ctl-bad-option", [ctl, "--socket", sock, "--bogus", "status"], timeout_s=15)
    check(bad_option.rc == 2, f"an unknown option exited {bad_option.rc}, expected 2 (usage)")
    unreachable = h.run("ctl-unreachable", [ctl, "--socket", "/nonexistent", "status"], timeout_s=15)
    check(unreachable.rc == 3, f"status on /nonexistent exited {unreachable.rc}, expected 3 (unreachable)")
    check("/nonexistent" in unreachable.stderr, f"the error does not name the socket: {unreachable.stderr!r}")
    check(daemon.running(), f"superventd exited ({daemon.poll()}) before stop")

    # stop: drains, then exits; ctl returns once the daemon is gone.
    stop = h.run("ctl-stop", [ctl, "--socket", sock, "--json", "stop"], timeout_s=60)
    check(stop.rc == 0, f"supervent-ctl stop exited {stop.rc}, expected 0: {stop.stderr}")
    daemon_rc = daemon.wait(timeout_s=10)
    check(daemon_rc == 0, f"superventd exited {daemon_rc} after stop, expected 0")
    summary = harness.require_summary(daemon.stderr())
    h.log(f"daemon summary: {summary}")
    report = harness.check_drained_exactly(h, summary, sink, acked, "stop")

    # What stop reports is the outcome of the drain, not a status from before
    # it ended (it prints "stopped: N events acknowledged").
    final = stop.json()
    h.log(f"stop --json: { {k: final.get(k) for k in STATUS_FIELDS} }")
    check(final.get("events_acked") == summary["acked"] and final.get("events_in_flight") == 0,
          f"supervent-ctl --json stop reported {final.get('events_acked')} acked, {final.get('events_in_flight')} in "
          f"flight (state {final.get('state')!r}); the daemon finished with {summary['acked']} acked, 0 in flight: "
          f"stop printed a status from before the drain ended")

    # Stopped daemon: its socket is gone, ctl says unreachable.
    after = h.run("ctl-after", [ctl, "--socket", sock, "status"], timeout_s=15)
    check(after.rc == 3, f"status after the daemon exited returned {after.rc}, expected 3")

    # Again at an unlimited rate, where many batches are in flight when stop
    # arrives: the readable "stopped: N events acknowledged" must give the
    # final N, the one the daemon's summary and the sink agree on. Whether a
    # stale N shows depends on timing, so three rounds.
    for round_number in range(1, 4):
        stop_unlimited(h, ctl, round_number)


def stop_unlimited(h, ctl, round_number):
    tag = f"unlimited{round_number}"
    sink = h.start_sink(name=f"sink-{tag}", verify=False, report=True)
    sock = h.path(f"ctl-{tag}.sock")
    daemon = h.start(f"superventd-{tag}", [h.bin("superventd"), "--sink", sink.url, "--socket", sock], timeout_s=60)
    h.wait_for(f"the {tag} daemon's control socket",
               lambda: check(daemon.running(), f"superventd-{tag} exited with {daemon.poll()}") or os.path.exists(sock),
               timeout_s=20)
    time.sleep(1.0)
    stop = h.run(f"ctl-stop-{tag}", [ctl, "--socket", sock, "stop"], timeout_s=60)
    check(stop.rc == 0, f"[{tag}] supervent-ctl stop exited {stop.rc}, expected 0: {stop.stderr}")
    daemon_rc = daemon.wait(timeout_s=10)
    check(daemon_rc == 0, f"[{tag}] superventd exited {daemon_rc} after stop at an unlimited rate, expected 0")
    summary = harness.require_summary(daemon.stderr())
    report = sink.stop()
    h.log(f"[{tag}] stop said {stop.stdout.strip()!r}; summary {summary}; sink {report['events']} events")
    check(summary["generated"] == summary["acked"] and summary["failed"] == 0 and summary["in_flight"] == 0,
          f"[{tag}] stop lost events: {summary}")
    check(report["events"] == summary["acked"],
          f"[{tag}] the sink counted {report['events']} events, the daemon acknowledged {summary['acked']}")
    match = re.search(r"stopped: ([\d,]+) events acknowledged", stop.stdout)
    check(match is not None, f"[{tag}] supervent-ctl stop printed no 'stopped: N events acknowledged': {stop.stdout!r}")
    stopped_acked = int(match.group(1).replace(",", ""))
    check(stopped_acked == summary["acked"],
          f"[{tag}] supervent-ctl stop printed {stopped_acked:,} events acknowledged, but the daemon finished with "
          f"{summary['acked']:,} acknowledged (and the sink counted {report['events']:,}): stop reported a status "
          f"from before the drain ended")

if __name__ == "__main__":
    harness.main(test)
