#!/usr/bin/env python3
"""What the dashboard costs the data plane: superventd's rate with the
metrics listener idle, against the same with N clients polling the page's
/api/status (and fetching /metrics, as Prometheus would) once a second, as N
open browsers do. Runs alternate (A B B A ...) so a drift of the machine
hits both; prints each run's events/s and events per worker CPU-second
(superventd's summary), and the medians of both.

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
    daemon = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: os.sched_setaffinity(0, args.daemon_cpus))
    while not os.path.exists(sock):
        time.sleep(0.01)
    for _ in range(500):  # the socket file appears a moment before it answers
        reply = subprocess.run([os.path.join(args.bin_dir, "supervent-ctl"), "--socket", sock, "dashboard"],
                               capture_output=True, text=True)
        if reply.returncode == 0:
            break
        time.sleep(0.01)
    url = reply.stdout.strip()
    stop, counts = threading.Event(), []
    threads = [threading.Thread(target=poll, args=(url, stop, counts)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    _, stderr = daemon.communicate(timeout=args.seconds + 60)
    stop.set()
    for thread in threads:
        thread.join()
    match = re.search(r"summary: [\d.]+ s, ([\d,]+) events/s", stderr)
    per_cpu = re.search(r"summary: workers used [\d.]+ CPU-s, ([\d,]+) events generated per CPU-second", stderr)
    if match is None or per_cpu is None:
        raise SystemExit(f"no summary line from superventd:\n{stderr}")
    return int(match.group(1).replace(",", "")), int(per_cpu.group(1).replace(",", "")), len(counts)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--sink", default="discard:")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--client-cpu", type=int, default=os.cpu_count() - 1,
                        help="the CPU the polling clients run on (browsers are on other machines; "
                             "the one worker is pinned to CPU 0)")
    args = parser.parse_args()
    # The clients stand for browsers on other machines: keep them off the
    # worker's CPU, or the benchmark measures Python's cache traffic.
    args.daemon_cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {args.client_cpu})
    # Each round runs both, in the order ABBA-alternating, so a drift of the
    # machine's load hits both sides alike. Events per worker CPU-second is
    # the data plane's cost, which other load on the machine barely moves;
    # events per wall second is what a user sees, and does move with it.
    idle, polled = [], []
    for round_index in range(args.rounds):
        order = (0, args.clients) if round_index % 2 == 0 else (args.clients, 0)
        results = {}
        for clients in order:
            results[clients] = run(args, clients)
        idle.append(results[0])
        polled.append(results[args.clients])
        print(f"round {round_index + 1}: idle {idle[-1][0]:,} events/s ({idle[-1][1]:,} per CPU-s); "
              f"{args.clients} clients ({polled[-1][2]} polls) {polled[-1][0]:,} events/s "
              f"({polled[-1][1]:,} per CPU-s)", flush=True)
    for column, what in ((0, "events/s"), (1, "events per worker CPU-second")):
        a = statistics.median(r[column] for r in idle)
        b = statistics.median(r[column] for r in polled)
        print(f"median {what}: idle {a:,.0f}, with {args.clients} clients {b:,.0f} ({100 * (b - a) / a:+.1f} %)")

if __name__ == "__main__":
    main()
