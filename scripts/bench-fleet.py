#!/usr/bin/env python3
"""Fleet scaling on one machine (issue 17, item 8): 1, 2 and 4 superventd
instances (--workers 1 each, --shard i/N, the same seed) send one backfill of
EVENTS events to one supervent-sink --verify. Prints, per N: the events the
sink counted (must equal EVENTS, none invalid: the parts' union is the whole
run), the wall time from the first start to the last exit, and the aggregate
rate; beside it, in the same run, the peer: one instance to discard: (the
generator alone, no network).

usage: scripts/bench-fleet.py [--bin-dir build/bin] [--events N] [--counts 1,2,4]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time


def start_sink(bin_dir, tmp, tag):
    port_file = os.path.join(tmp, f"{tag}.port")
    report = os.path.join(tmp, f"{tag}.report.json")
    sink = subprocess.Popen([os.path.join(bin_dir, "supervent-sink"), "--listen", "127.0.0.1:0", "--port-file",
                             port_file, "--verify", "--report", report], stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return sink, int(open(port_file).read()), report
        time.sleep(0.02)
    sys.exit("supervent-sink did not start")


def run_fleet(bin_dir, tmp, parts, events, sink_url):
    window = ["--start", "2024-01-01T00:00:00Z", "--end", "2024-01-02T00:00:00Z", "--events", str(events)]
    procs = []
    began = time.monotonic()
    for i in range(parts):
        argv = [os.path.join(bin_dir, "superventd"), "--workers", "1", "--seed", "7", *window, "--sink", sink_url,
                "--socket", os.path.join(tmp, f"p{parts}-{i}.sock")]
        if parts > 1:
            argv += ["--shard", f"{i}/{parts}"]
        procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for p in procs:
        if p.wait(timeout=600) != 0:
            sys.exit(f"superventd exited {p.returncode}")
    return time.monotonic() - began


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default="build/bin")
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--counts", default="1,2,4")
    o = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="supervent-bench-fleet-") as tmp:
        print(f"cpu: {os.cpu_count()} cores, load average before: {os.getloadavg()[0]:.1f}")
        peer_s = run_fleet(o.bin_dir, tmp, 1, o.events, "discard:")
        print(f"\n| instances | events sent | sink counted | invalid | wall s | aggregate events/s | vs 1 instance |")
        print(f"|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| 1 → discard: (peer) | {o.events:,} | — | — | {peer_s:.2f} | {o.events / peer_s:,.0f} | |")
        base = None
        for parts in (int(c) for c in o.counts.split(",")):
            sink, port, report = start_sink(o.bin_dir, tmp, f"sink{parts}")
            wall = run_fleet(o.bin_dir, tmp, parts, o.events, f"http://127.0.0.1:{port}")
            sink.send_signal(signal.SIGTERM)
            sink.wait(timeout=30)
            with open(report) as f:
                r = json.load(f)
            rate = o.events / wall
            base = base or rate
            exact = "exact" if r["events"] == o.events and r["invalid_events"] == 0 else "NOT EXACT"
            print(f"| {parts} | {o.events:,} | {r['events']:,} ({exact}) | {r['invalid_events']} | {wall:.2f} | "
                  f"{rate:,.0f} | {rate / base:.2f}x |")
        print(f"\nload average after: {os.getloadavg()[0]:.1f} (other engineers' jobs share these cores)")


if __name__ == "__main__":
    main()
