#!/usr/bin/env python3
"""Far sinks: superventd's throughput against a sink N ms away
(supervent-sink --delay-ms N holds each answer N ms after its request
arrived), with and without zstd, beside the same run against the sink with
no delay (the peer each ratio is taken to), and beside the fixed 2-deep
pipeline of before (--pipeline-max 2) at the same delays.

    scripts/bench_far.py [--bin-dir build/bin] [--events N] [--delays 0,10,50,100]
                         [--modes zstd,off] [--rounds N] [--no-fixed] [--https]

Per row: the whole run's rate ("run ev/s", events over the daemon's own
wall time, the climb included) and its ratio to the same mode's no-delay
run; the rate after the climb ("steady ev/s": acknowledged events per
second from the moment the pipeline depth (summed over workers) first
reached 90 % of where it settled, the median of the run's second half; sampled from the control socket every 0.2 s) and its ratio; how
long the climb took; the depth each worker ended at; peak RSS.

The target (issue 21): at 50 ms with compression on, >= 0.8 of no delay.
Wall-clock rates: on a shared machine, read the ratios, not the rates;
--rounds N --delays 0,50 alternates 0 and 50 ms runs N times.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_e2e import Sink, run_daemon  # noqa: E402

POLL_S = 0.2


class StatusPoller(threading.Thread):
    """Samples (monotonic s, events acked, [depth per shard]) from the daemon's control socket."""

    def __init__(self, bin_dir, socket_path):
        super().__init__(daemon=True)
        self.ctl = os.path.join(bin_dir, "supervent-ctl")
        self.socket_path = socket_path
        self.samples = []
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                out = subprocess.run([self.ctl, "--socket", self.socket_path, "--json", "status"],
                                     capture_output=True, text=True, timeout=5)
                status = json.loads(out.stdout) if out.returncode == 0 else None
            except (subprocess.TimeoutExpired, ValueError):
                status = None
            if status and status.get("ok") and status.get("state") != "starting":
                depths = [shard["pipeline_depth"] for shard in status["shards"]]
                self.samples.append((time.monotonic(), status["events_acked"], depths))
            self.stopped.wait(POLL_S)

    def steady(self, events):
        """(rate after the climb, climb s, final depths); the climb ends when the
        summed depth first reaches 90 % of where it settled (the median of the
        run's second half). Samples after the last event was acknowledged are left out."""
        running = [s for s in self.samples if s[1] < events]
        if len(running) < 3:
            return None, None, self.samples[-1][2] if self.samples else []
        # The depth it settled at: the median summed depth of the run's second half.
        late = sorted(sum(s[2]) for s in running[len(running) // 2:])
        settled = late[len(late) // 2]
        start = next(s for s in running if sum(s[2]) * 10 >= settled * 9)
        end = running[-1]
        if end[0] - start[0] < 3 * POLL_S:  # the climb took (nearly) the whole run
            return None, start[0] - running[0][0], running[-1][2]
        return (end[1] - start[1]) / (end[0] - start[0]), start[0] - running[0][0], running[-1][2]


def make_pki(work):
    """A throwaway CA and server certificate (test/net/tls_certs.sh), for --https."""
    pki = os.path.join(work, "pki")
    subprocess.run(["sh", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "net", "tls_certs.sh"),
                    pki], check=True, stdout=subprocess.DEVNULL)
    return pki


def measure(bin_dir, work, events, delay_ms, compression, extra=(), pki=None):
    # A TLS sink answers /stats over TLS only: its count comes from --report, written as it stops.
    report = os.path.join(work, f"report{time.monotonic_ns()}.json")
    tls_sink = ["--tls-cert", os.path.join(pki, "server.pem"), "--tls-key", os.path.join(pki, "server.key"),
                "--report", report] if pki else []
    sink = Sink(bin_dir, work, ["--delay-ms", str(delay_ms), *tls_sink])
    socket_path = os.path.join(work, f"far{time.monotonic_ns()}.sock")
    scheme = "https" if pki else "http"
    args = ["--sink", f"{scheme}://127.0.0.1:{sink.port}", "--events", str(events), "--socket", socket_path,
            "--compression", compression, *extra]
    if pki:
        args += ["--ca-file", os.path.join(pki, "ca.pem")]
    poller = StatusPoller(bin_dir, socket_path)
    poller.start()
    # run_daemon fails unless superventd exits 0: every generated event acknowledged.
    eps, _, _, _, peak_rss = run_daemon(bin_dir, args)
    poller.stopped.set()
    poller.join()
    if pki:
        sink.stop()
        received = json.load(open(report))["events"]
    else:
        received = sink.stats()["events"]
        sink.stop()
    if received != events:
        sys.exit(f"delay {delay_ms} ms: the sink received {received} of {events} events")
    steady, climb_s, depths = poller.steady(events)
    return {"eps": eps, "rss": peak_rss, "steady": steady, "climb_s": climb_s, "depths": depths}


def fixed_events(events, delay_ms):
    """Events for a fixed 2-deep run: ~3 s of what 2 x 2 x 2 batches of 2,000 per round trip allow."""
    if delay_ms == 0:
        return events // 4
    return min(events // 4, int(2 * 2 * 2 * 2000 / (delay_ms / 1000) * 3))


def ratio(value, base):
    return f"{value / base:.2f}" if value and base else "-"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default="build/bin")
    parser.add_argument("--events", type=int, default=12_000_000)
    parser.add_argument("--delays", default="0,10,50,100")
    parser.add_argument("--modes", default="zstd,off", help="compression per table section: zstd, off, zstd:1 ...")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the delays in turn, each round beside its own 0 ms")
    parser.add_argument("--no-fixed", action="store_true", help="leave out the fixed 2-deep runs")
    parser.add_argument("--sink-threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--pipeline-max", type=int, help="superventd --pipeline-max for the adaptive runs "
                        "(default: superventd's own)")
    parser.add_argument("--https", action="store_true", help="superventd over HTTPS to a TLS sink (TLS 1.3)")
    args = parser.parse_args()
    adaptive_extra = ["--pipeline-max", str(args.pipeline_max)] if args.pipeline_max else []
    Sink.threads = args.sink_threads
    delays = [int(d) for d in args.delays.split(",")]
    if delays[0] != 0:
        delays.insert(0, 0)
    work = tempfile.mkdtemp(prefix="supervent-bench-far-")
    pki = make_pki(work) if args.https else None

    print(f"{'compression':<11} {'rnd':>3} {'delay':>6} {'run ev/s':>11} {'ratio':>5} {'steady ev/s':>11} {'ratio':>5}"
          f" {'climb s':>7} {'depths':>7} {'fixed-2 ev/s':>12} {'ratio':>5} {'peak RSS':>8}", flush=True)
    for compression in args.modes.split(","):
        mode = "none" if compression == "off" else compression
        for round_ in range(1, args.rounds + 1):
            base = fixed_base = None
            for delay in delays:
                row = measure(args.bin_dir, work, args.events, delay, mode, adaptive_extra, pki)
                fixed = None
                if not args.no_fixed:
                    fixed = measure(args.bin_dir, work, fixed_events(args.events, delay), delay, mode,
                                    ["--pipeline-max", "2"], pki)["eps"]
                if delay == 0:
                    base, fixed_base = row, fixed
                climb = f"{row['climb_s']:.1f}" if row["climb_s"] is not None else "-"
                steady = f"{row['steady']:,.0f}" if row["steady"] else "-"
                depths = "/".join(str(d) for d in row["depths"])
                print(f"{compression:<11} {round_:>3} {delay:>4}ms {row['eps']:>11,.0f} {ratio(row['eps'], base['eps']):>5}"
                      f" {steady:>11} {ratio(row['steady'], base['steady']):>5} {climb:>7} {depths:>7}"
                      f" {(f'{fixed:,.0f}' if fixed else '-'):>12} {ratio(fixed, fixed_base):>5}"
                      f" {row['rss'] / 2**20:>6.0f}Mi", flush=True)
    print(f"{'HTTPS' if args.https else 'HTTP'}; ratio: to the same mode's (and round's) run with no delay, measured"
          " in this run (2 workers, 2 connections each); run = the whole run, climb included; steady = after the depth reached 90 % of where it settled")


if __name__ == "__main__":
    main()
