#!/usr/bin/env python3
"""Far sinks: superventd's throughput against a sink N ms away
(supervent-sink --delay-ms N holds each answer N ms after its request
arrived), with and without zstd, beside the same run against the sink with
no delay (the peer each ratio is taken to), and beside the fixed 2-deep
pipeline of before (--pipeline-max 2) at the same delays.

    scripts/bench_far.py [--bin-dir build/bin] [--events N] [--delays 0,10,50,100]

The target (issue 21): at 50 ms with compression on, >= 0.8 of no delay.
Wall-clock rates: on a shared machine, read the ratios, not the rates.
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_e2e import Sink, run_daemon  # noqa: E402


def measure(bin_dir, work, events, delay_ms, compression, extra=()):
    sink = Sink(bin_dir, work, ["--delay-ms", str(delay_ms)])
    args = ["--sink", f"http://127.0.0.1:{sink.port}", "--events", str(events), "--socket",
            os.path.join(work, "far.sock"), *extra]
    if compression:
        args += ["--compression", compression]
    # run_daemon fails unless superventd exits 0: every generated event acknowledged.
    eps, _, _, _, peak_rss = run_daemon(bin_dir, args)
    received = sink.stats()["events"]
    sink.stop()
    if received != events:
        sys.exit(f"delay {delay_ms} ms: the sink received {received} of {events} events")
    return eps, peak_rss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default="build/bin")
    parser.add_argument("--events", type=int, default=4_000_000)
    parser.add_argument("--delays", default="0,10,50,100")
    parser.add_argument("--sink-threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    Sink.threads = args.sink_threads
    delays = [int(d) for d in args.delays.split(",")]
    if delays[0] != 0:
        delays.insert(0, 0)
    work = tempfile.mkdtemp(prefix="supervent-bench-far-")

    print(f"{'compression':<12} {'delay':>6} {'adaptive ev/s':>14} {'ratio':>6} {'fixed-2 ev/s':>13} {'ratio':>6}"
          f" {'peak RSS':>9}")
    for compression in ("zstd", None):
        base = None
        for delay in delays:
            eps, rss = measure(args.bin_dir, work, args.events, delay, compression)
            fixed, _ = measure(args.bin_dir, work, args.events if delay == 0 else args.events // 4, delay, compression,
                               ["--pipeline-max", "2"])
            base = base or eps
            fixed_base = fixed if delay == 0 else fixed_base
            print(f"{compression or 'off':<12} {delay:>4}ms {eps:>14,.0f} {eps / base:>6.2f} {fixed:>13,.0f}"
                  f" {fixed / fixed_base:>6.2f} {rss / 2**20:>7.0f}Mi", flush=True)
    print("ratio: to the same mode's run with no delay, measured in this run (2 workers, 2 connections each)")


if __name__ == "__main__":
    main()
