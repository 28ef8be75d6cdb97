#!/usr/bin/env python3
"""CPU time per event of zstd end to end: superventd compressing, supervent-sink
decompressing and counting, over loopback, on this machine.

Wall-clock rates move with whatever else the machine runs; the CPU each side
spends per event moves much less, and is what bounds the end-to-end rate when
both share the same cores (issue 21: on 2 cores the ceiling is
2 / (daemon µs + sink µs) events per µs). For each --compression profile, in
alternating rounds: superventd's user + system CPU time (its rusage, start-up
included), the sink's (/proc/PID/stat, one sink for the whole run), the events
both counted (they must agree), the wall-clock rate, and superventd's reported
compression ratio. The peer in the same run is the zstd command line
compressing the same NDJSON on one core (child CPU time per event).

usage: scripts/bench_zstd_cpu.py [--bin-dir build/bin] [--events 3000000]
                                 [--profiles 1,fast,-5] [--rounds 2]
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def start_sink(bin_dir, work):
    port_file = os.path.join(work, "port")
    proc = subprocess.Popen([os.path.join(bin_dir, "supervent-sink"), "--listen", "127.0.0.1:0", "--port-file",
                             port_file, "--threads", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return proc, int(open(port_file).read())
        time.sleep(0.025)
    proc.kill()
    sys.exit("supervent-sink did not start")


def sink_events(port):
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10))["events"]


def run_profile(bin_dir, work, sink, port, profile, events):
    before_sink, before_events = proc_cpu_s(sink.pid), sink_events(port)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([os.path.join(bin_dir, "superventd"), "--sink", f"http://127.0.0.1:{port}", "--events",
                           str(events), "--compression", f"zstd:{profile}", "--socket", f"{work}/d.sock"],
                          capture_output=True, text=True, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"superventd zstd:{profile} failed:\n{proc.stderr}")
    time.sleep(0.2)  # the sink's last /proc tick
    acked = int(re.search(r"([\d,]+) acknowledged", proc.stderr).group(1).replace(",", ""))
    received = sink_events(port) - before_events
    if received != acked:
        sys.exit(f"zstd:{profile}: the sink counted {received} events, superventd acknowledged {acked}")
    eps = float(re.search(r"summary: [\d.]+ s, ([\d,]+) events/s", proc.stderr).group(1).replace(",", ""))
    ratio = float(re.search(r"ratio ([\d.]+)", proc.stderr).group(1))
    daemon_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    sink_s = proc_cpu_s(sink.pid) - before_sink
    return daemon_s * 1e6 / acked, sink_s * 1e6 / acked, eps, ratio


def cli_us_per_event(bin_dir, work, events):
    sample = os.path.join(work, "sample.ndjson")
    subprocess.run([os.path.join(bin_dir, "superventd"), "--sink", f"file:{sample}", "--workers", "1", "--events",
                    str(events), "--socket", f"{work}/c.sock"], capture_output=True, check=True)
    best = 1e9
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(["zstd", "-q", "-T1", "-1", "-c", sample], stdout=subprocess.DEVNULL, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    os.remove(sample)
    return best * 1e6 / events


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", default="build/bin")
    parser.add_argument("--events", type=int, default=3000000)
    parser.add_argument("--profiles", default="1,fast,-5")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    profiles = args.profiles.split(",")
    with tempfile.TemporaryDirectory(prefix="supervent-zstd-cpu-") as work:
        sink, port = start_sink(args.bin_dir, work)
        try:
            results = {p: [] for p in profiles}
            for _ in range(args.rounds):
                for profile in profiles:
                    results[profile].append(run_profile(args.bin_dir, work, sink, port, profile, args.events))
        finally:
            sink.terminate()
            sink.wait()
        cli = cli_us_per_event(args.bin_dir, work, min(args.events, 500000)) if subprocess.run(
            ["which", "zstd"], capture_output=True).returncode == 0 else None
    load = os.getloadavg()[0]
    print(f"{args.events:,} events per run, {args.rounds} rounds, median; load average {load:.1f} "
          "(CPU µs per event: superventd rusage incl. start-up, supervent-sink /proc)")
    print(f"{'profile':<12} {'ratio':>6} {'daemon µs':>10} {'sink µs':>8} {'total µs':>9} "
          f"{'2-core ceiling ev/s':>20} {'wall ev/s':>11}")
    for profile in profiles:
        rows = results[profile]
        daemon = statistics.median(r[0] for r in rows)
        sink_us = statistics.median(r[1] for r in rows)
        eps = statistics.median(r[2] for r in rows)
        ratio = statistics.median(r[3] for r in rows)
        print(f"zstd:{profile:<7} {ratio:>6.2f} {daemon:>10.3f} {sink_us:>8.3f} {daemon + sink_us:>9.3f} "
              f"{2e6 / (daemon + sink_us):>20,.0f} {eps:>11,.0f}")
    if cli is not None:
        print(f"zstd -T1 -1 (CLI, same NDJSON, one core): {cli:.3f} µs/event")


if __name__ == "__main__":
    main()
