#!/usr/bin/env python3
"""Soak: superventd -> supervent-sink at a fixed rate for N minutes, with a
fault injected at every interval, sampling memory, rate and accounting.

    scripts/soak.py --minutes 10                      # build/bin, 20,000 events/s
    scripts/soak.py --bin-dir build-rel/bin --minutes 60 --rate 50000 --workers 2

Faults, in turn, each for half an interval followed by a healthy half:
  restart    the sink stopped (SIGTERM) and started again on the same port
  kill       the sink killed with SIGKILL and started again
  mixed      the sink answers 10 % 503, 5 % 429, 1 % slow (delay=200ms), closes 2 %
  blackhole  a server that accepts, reads and never answers (request timeout 2 s)
  refused    nothing listens on the port
and, halfway through, one outage of --outage-s (default 120 s: a minute or
two of an ingest API gone, issue 13) during which nothing listens.

Every --sample-s seconds one row: time, fault, RSS, generated and acked
events/s over the sample, totals, retries, ambiguous requests. At the end a
verdict on
  - RSS drift: the last third's peak against the peak of the first healthy
    minute (at most --rss-drift-mib, default 16 MiB),
  - rate accuracy: events generated per second over the samples that were
    healthy from start to end, against --rate (within 2 %); a fault
    backpressures generation on purpose, so the whole-run figure is only
    reported,
  - accounting: every status adds up (acked + failed + in flight =
    generated) and, after the final stop, acked + failed = generated,
  - no loss: no event failed, since every fault here is retried within
    network.retry_for (10 minutes), and the log said when the outage began
    and when it ended,
  - delivery: the sinks together counted at least the acknowledged events
    (less what a SIGKILLed sink may have counted unseen) and at most acked +
    ambiguous requests x batch.
Exit 0 when every check passes, 1 otherwise.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

# The fault helpers are the e2e fault tests' own (test/e2e), so the soak and
# the fault matrix measure and misbehave the same way.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "e2e"))
from fault_common import BlackHole, rss_kib  # noqa: E402
from harness import free_port  # noqa: E402

BATCH = 1000


class Soak:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="supervent-soak-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.sink = None
        self.sink_n = 0
        self.hole = None
        self.counted = 0           # events counted by sinks already gone
        self.unseen_slack = 0      # acked events a SIGKILLed sink may have counted without our seeing it
        self.problems = []
        self.rows = []
        self.steady_events = 0
        self.steady_s = 0.0
        self.last_fault = "start"

    def bin(self, name):
        return os.path.join(self.args.bin_dir, name)

    # Receivers ----------------------------------------------------------
    def sink_stats(self):
        with urllib.request.urlopen(f"{self.url}/stats", timeout=5) as reply:
            return json.loads(reply.read())

    def start_sink(self, faults=None):
        self.sink_n += 1
        argv = [self.bin("supervent-sink"), "--listen", f"127.0.0.1:{self.port}", "--verify",
                "--report", os.path.join(self.dir, f"sink{self.sink_n}.json")]
        if faults:
            argv += ["--faults", faults]
        self.sink = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, f"sink{self.sink_n}.err"), "wb"))
        for _ in range(200):
            try:
                self.sink_stats()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("supervent-sink did not come up")

    def stop_sink(self, kill=False):
        if self.sink is None:
            return
        if kill:
            before = self.status()["events_acked"]
            try:
                seen = self.sink_stats()["events"]
            except OSError:
                seen = 0
            self.sink.kill()
            self.sink.wait()
            time.sleep(0.2)
            after = self.status()["events_acked"]
            self.counted += seen
            self.unseen_slack += after - before
        else:
            self.sink.send_signal(signal.SIGTERM)
            self.sink.wait(timeout=15)
            with open(os.path.join(self.dir, f"sink{self.sink_n}.json")) as f:
                report = json.load(f)
            self.counted += report["events"]
            if report["invalid_events"]:
                self.problems.append(f"sink {self.sink_n} saw {report['invalid_events']} invalid events")
        self.sink = None

    def clear(self):
        self.stop_sink()
        if self.hole is not None:
            self.hole.close()
            self.hole = None

    def apply(self, fault):
        """Puts `fault` in place (None = healthy)."""
        self.clear()
        if fault is None:
            self.start_sink()
        elif fault == "restart":
            self.start_sink()          # clear() stopped the previous one: a restart
        elif fault == "kill":
            self.start_sink()
            time.sleep(1)
            self.stop_sink(kill=True)
            self.start_sink()
        elif fault == "mixed":
            self.start_sink("status=503@10%,status=429@5%,delay=200ms@1%,close@2%")
        elif fault == "blackhole":
            self.hole = BlackHole(self.port)
        elif fault == "refused":
            pass

    # Daemon -------------------------------------------------------------
    def status(self):
        out = subprocess.run([self.bin("supervent-ctl"), "--socket", self.socket, "--json", "status"],
                             capture_output=True, text=True, timeout=15)
        if out.returncode != 0:
            raise RuntimeError(f"supervent-ctl status: {out.stderr.strip()}")
        return json.loads(out.stdout)

    def run(self):
        a = self.args
        self.socket = os.path.join(self.dir, "ctl.sock")
        self.start_sink()
        self.daemon = subprocess.Popen(
            [self.bin("superventd"), "--sink", self.url, "--rate", str(a.rate), "--workers", str(a.workers),
             "--batch-events", str(BATCH), "--request-timeout", "2s", "--connect-timeout", "1s",
             "--socket", self.socket],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "superventd.err"), "wb"))
        for _ in range(200):
            if os.path.exists(self.socket):
                try:
                    self.status()
                    break
                except RuntimeError:
                    pass
            time.sleep(0.05)
        started = time.monotonic()
        end = started + a.minutes * 60
        faults = ["restart", "kill", "mixed", "blackhole", "refused"]
        print(f"soak: superventd -> supervent-sink on {self.url}, {a.rate:,} events/s, {a.workers} workers, "
              f"{a.minutes} min, a fault every {a.fault_interval_s:.0f} s (files in {self.dir})", flush=True)
        print(f"{'t/s':>6} {'fault':>9} {'rss MiB':>8} {'gen/s':>8} {'acked/s':>8} {'generated':>11} "
              f"{'acked':>11} {'failed':>8} {'inflight':>8} {'retried':>7} {'ambig':>5}", flush=True)
        previous = (started, self.status())
        rss_first = rss_peak_late = 0
        fault_index, phase_end, fault = 0, started + a.fault_interval_s, None  # healthy first interval
        next_sample = started + a.sample_s
        outage_at = started + a.minutes * 60 / 2 if a.outage_s > 0 else float("inf")
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= outage_at:
                outage_at = float("inf")
                fault = "outage"
                self.apply("refused")
                phase_end = now + a.outage_s
            elif now >= phase_end:
                if fault is None:
                    fault = faults[fault_index % len(faults)]
                    fault_index += 1
                else:
                    fault = None
                self.apply(fault)
                phase_end = now + a.fault_interval_s / 2
            if now >= next_sample:
                next_sample += a.sample_s
                if self.daemon.poll() is not None:
                    self.problems.append(f"superventd exited {self.daemon.returncode} during the soak")
                    break
                status = self.status()
                rss = rss_kib(self.daemon.pid) or 0  # None: /proc unreadable this once
                t0, s0 = previous
                dt = now - t0
                gen_rate = (status["events_generated"] - s0["events_generated"]) / dt
                ack_rate = (status["events_acked"] - s0["events_acked"]) / dt
                previous = (now, status)
                elapsed = now - started
                if elapsed <= 60:
                    rss_first = max(rss_first, rss)
                if elapsed >= a.minutes * 60 * 2 / 3:
                    rss_peak_late = max(rss_peak_late, rss)
                if status["events_acked"] + status["events_failed"] + status["events_in_flight"] != \
                        status["events_generated"]:
                    self.problems.append(f"t={elapsed:.0f}s: status does not add up: {status}")
                row = (elapsed, fault or "-", rss / 1024, gen_rate, ack_rate, status["events_generated"],
                       status["events_acked"], status["events_failed"], status["events_in_flight"],
                       status["requests_retried"], status.get("requests_ambiguous", 0))
                self.rows.append(row)
                # Rate accuracy counts only samples healthy from start to end (a fault
                # backpressures generation, which is the point; recovery catches up a little).
                if fault is None and self.last_fault is None:
                    self.steady_events += status["events_generated"] - s0["events_generated"]
                    self.steady_s += dt
                self.last_fault = fault
                print(f"{row[0]:6.0f} {row[1]:>9} {row[2]:8.1f} {row[3]:8.0f} {row[4]:8.0f} {row[5]:11,} "
                      f"{row[6]:11,} {row[7]:8,} {row[8]:8,} {row[9]:7,} {row[10]:5,}", flush=True)
            time.sleep(0.05)

        # End: healthy sink, stop the daemon, collect.
        self.apply(None)
        time.sleep(2)
        out = subprocess.run([self.bin("supervent-ctl"), "--socket", self.socket, "--json", "stop"],
                             capture_output=True, text=True, timeout=120)
        final = json.loads(out.stdout)
        rc = self.daemon.wait(timeout=60)
        elapsed = time.monotonic() - started
        self.clear()
        return self.verdict(final, rc, elapsed, rss_first, rss_peak_late)

    def verdict(self, final, rc, elapsed, rss_first, rss_peak_late):
        a = self.args
        generated, acked, failed = final["events_generated"], final["events_acked"], final["events_failed"]
        ambiguous = final.get("requests_ambiguous", 0)
        run_s = final["uptime_s"]
        rate_accuracy = self.steady_events / (a.rate * self.steady_s) if self.steady_s else 0
        drift_mib = (rss_peak_late - rss_first) / 1024
        checks = [
            ("accounting: acked + failed = generated, none in flight",
             acked + failed == generated and final["events_in_flight"] == 0,
             f"{acked:,} + {failed:,} = {acked + failed:,} of {generated:,}"),
            ("delivery: nothing lost", self.counted + self.unseen_slack >= acked,
             f"sinks counted {self.counted:,} (+ up to {self.unseen_slack:,} unseen at SIGKILL), acked {acked:,}"),
            ("delivery: duplicates only from ambiguous retries", self.counted <= acked + ambiguous * BATCH,
             f"{self.counted - acked:+,} events vs {ambiguous:,} ambiguous requests x {BATCH}"),
            (f"RSS drift <= {a.rss_drift_mib} MiB", drift_mib <= a.rss_drift_mib,
             f"first minute peak {rss_first / 1024:.1f} MiB, last third peak {rss_peak_late / 1024:.1f} MiB"),
            ("rate accuracy within 2 % while healthy", abs(rate_accuracy - 1) <= 0.02,
             f"{self.steady_events / max(self.steady_s, 1e-9):,.0f} events/s over {self.steady_s:.0f} s of healthy "
             f"samples = {rate_accuracy:.2%} of target (whole run, faults included: {generated / run_s:,.0f}/s)"),
            ("exit code as documented (1 when events failed)", rc == (1 if failed else 0), f"exit {rc}"),
            ("no loss: no event failed (every fault is retried within network.retry_for)", failed == 0,
             f"{failed:,} failed"),
        ]
        if a.outage_s > 0:
            with open(os.path.join(self.dir, "superventd.err"), errors="replace") as f:
                log = f.read()
            # Every fault phase logs a begin and an end; the outage's end is the
            # one whose duration covers it.
            ends = [(float(m.group(1)), m.group(0)) for m in
                    re.finditer(r"available again after ([\d.]+) s of failures", log)]
            longest = max(ends, default=(0.0, "no 'available again after' line"))
            checks.append(("the outage was logged as it began and as it ended",
                           "unavailable since" in log and longest[0] >= 0.9 * a.outage_s,
                           longest[1]))
        for problem in self.problems:
            checks.append((problem, False, ""))
        print(f"\nsoak verdict after {elapsed / 60:.1f} min ({len(self.rows)} samples; failed by reason: "
              f"{final['events_failed_by_reason']}):")
        ok = True
        for name, passed, detail in checks:
            ok &= passed
            print(f"  {'PASS' if passed else 'FAIL'}  {name}: {detail}")
        print(f"soak: {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin"))
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--fault-interval-s", type=float, default=40)
    parser.add_argument("--sample-s", type=float, default=5)
    parser.add_argument("--rss-drift-mib", type=float, default=16)
    parser.add_argument("--outage-s", type=float, default=120, help="the outage halfway through; 0 = none")
    args = parser.parse_args()
    soak = Soak(args)
    try:
        sys.exit(soak.run())
    finally:
        for p in (getattr(soak, "daemon", None), soak.sink):
            if p is not None and p.poll() is None:
                p.kill()


if __name__ == "__main__":
    main()
