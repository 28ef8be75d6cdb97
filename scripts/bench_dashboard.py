#!/usr/bin/env python3
"""What the dashboard costs the data plane: superventd's rate with the
metrics listener idle, against the same with N clients polling the page's
/api/status (and fetching /metrics, as Prometheus would) once a second, as N
open browsers do. Runs alternate (A B A B ...) so a drift of the machine
hits both; prints each run's events/s and the medians.

    scripts/bench_dashboard.py --bin-dir build/bin [--sink discard:] [--seconds 10] [--rounds 3] [--clients 5]
"""

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request


def poll(base, stop, counts):
    """One browser: the page once, then /api/status every second (and /metrics)."""
    urllib.request.urlopen(base, timeout=5).read()
    while not stop.wait(1.0):
        try:
            urllib.request.urlopen(base + "api/status", timeout=5).read()
            urllib.request.urlopen(base + "metrics", timeout=5).read()
            counts.append(1)
        except OSError:
            pass  # the daemon has just ended its run


def run(args, clients):
    work = tempfile.mkdtemp(prefix="supervent-bench-dashboard-")
    sock = os.path.join(work, "ctl.sock")
    argv = [os.path.join(args.bin_dir, "superventd"), "--sink", args.sink, "--workers", "1",
            "--duration", f"{args.seconds}s", "--metrics-listen", "127.0.0.1:0", "--socket", sock]
    daemon = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    while not os.path.exists(sock):
        time.sleep(0.01)
    url = subprocess.run([os.path.join(args.bin_dir, "supervent-ctl"), "--socket", sock, "dashboard"],
                         capture_output=True, text=True, check=True).stdout.strip()
    stop, counts = threading.Event(), []
    threads = [threading.Thread(target=poll, args=(url, stop, counts)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    _, stderr = daemon.communicate(timeout=args.seconds + 60)
    stop.set()
    for thread in threads:
        thread.join()
    match = re.search(r"summary: [\d.]+ s, ([\d,]+) events/s", stderr)
    if match is None:
        raise SystemExit(f"no summary line from superventd:\n{stderr}")
    return int(match.group(1).replace(",", "")), len(counts)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--sink", default="discard:")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=5)
    args = parser.parse_args()
    idle, polled = [], []
    for round_index in range(args.rounds):
        rate, _ = run(args, 0)
        idle.append(rate)
        rate, polls = run(args, args.clients)
        polled.append(rate)
        print(f"round {round_index + 1}: idle {idle[-1]:,} events/s; {args.clients} clients "
              f"({polls} polls) {polled[-1]:,} events/s", flush=True)
    a, b = statistics.median(idle), statistics.median(polled)
    print(f"median: idle {a:,.0f}, with {args.clients} clients {b:,.0f} events/s ({100 * (b - a) / a:+.1f} %)")


if __name__ == "__main__":
    main()
