#!/usr/bin/env python3
"""End-to-end throughput of superventd on this machine, beside the ceilings
measured in the same run: iperf3 (1 MiB writes over loopback) and wrk posting
the same request body to the same supervent-sink.

    scripts/bench_e2e.py [--bin-dir build/bin] [--seconds 5] [--events N] [--rounds 3]

Prints one table. Run on a quiet machine: the numbers are wall-clock rates.
The three rows the ratio is made of (superventd over HTTP, iperf3, wrk) are
measured --rounds times, interleaved, and the table shows their medians, so a
burst of other work on a shared machine moves the ratio less.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SUMMARY = re.compile(r"summary: ([\d.]+) s, ([\d,]+) events/s, ([\d.]+) MB/s")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_daemon(bin_dir, args):
    """Runs superventd to completion; returns (events/s, MB/s, acked, wall s, peak RSS bytes)."""
    started = time.monotonic()
    # Peak RSS of this child alone: run it under a fresh Python so RUSAGE_CHILDREN
    # is not the maximum over every earlier child.
    wrapper = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "sys.stderr.write(p.stderr); "
               "sys.stderr.write('PEAK_RSS_KB %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
               "sys.exit(p.returncode)")
    proc = subprocess.run([sys.executable, "-c", wrapper, os.path.join(bin_dir, "superventd"), *args],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        sys.exit(f"superventd {' '.join(args)} failed:\n{proc.stderr}")
    match = SUMMARY.search(proc.stderr)
    acked = int(re.search(r"([\d,]+) acknowledged", proc.stderr).group(1).replace(",", ""))
    wall_s = time.monotonic() - started
    peak_rss = int(re.search(r"PEAK_RSS_KB (\d+)", proc.stderr).group(1)) * 1024
    return float(match.group(2).replace(",", "")), float(match.group(3)), acked, wall_s, peak_rss


class Sink:
    # I/O threads of every sink in the run (wrk's and superventd's alike); set from --sink-threads.
    threads = 1

    def __init__(self, bin_dir, workdir, extra=()):
        self.port_file = os.path.join(workdir, f"port{time.monotonic_ns()}")
        self.proc = subprocess.Popen([os.path.join(bin_dir, "supervent-sink"), "--listen", "127.0.0.1:0",
                                      "--port-file", self.port_file, "--threads", str(Sink.threads), *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(self.port_file) and open(self.port_file).read().strip():
                break
            time.sleep(0.025)
        self.port = int(open(self.port_file).read())

    def stats(self):
        import urllib.request
        return json.load(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=10))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def iperf3_bytes_per_s(seconds):
    port = free_port()
    server = subprocess.Popen(["iperf3", "-s", "-1", "-p", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    out = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-l", "1M", "-t", str(seconds), "-J"],
                         capture_output=True, text=True, timeout=seconds + 30)
    server.wait(timeout=10)
    return json.loads(out.stdout)["end"]["sum_received"]["bits_per_second"] / 8


def wrk_bytes_per_s(sink, body_path, seconds, scheme="http"):
    script = body_path + ".lua"
    with open(script, "w") as f:
        f.write(f"""
local f = io.open("{body_path}", "rb")
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "application/x-ndjson"
wrk.path = "/v1/datasets/wrk/ingest"
done = function(summary, latency, requests)
  io.write(string.format("WRK_REQUESTS %d %f\\n", summary.requests, summary.duration / 1e6))
end
""")
    out = subprocess.run(["wrk", "-t2", "-c4", f"-d{seconds}s", "-s", script, f"{scheme}://127.0.0.1:{sink.port}/"],
                         capture_output=True, text=True, timeout=seconds + 60)
    requests, duration_s = re.search(r"WRK_REQUESTS (\d+) ([\d.]+)", out.stdout).groups()
    return int(requests) * os.path.getsize(body_path) / float(duration_s)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default="build/bin")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of the HTTP, iperf3 and wrk measurements; medians are shown")
    # One sink I/O thread per core: with one, the sink's connections all wait
    # on a thread that shares its core with a pinned superventd worker.
    parser.add_argument("--sink-threads", type=int, default=os.cpu_count() or 1,
                        help="supervent-sink --threads for every sink of the run (default: one per CPU)")
    args = parser.parse_args()
    Sink.threads = args.sink_threads
    for tool in ("iperf3", "wrk"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: run scripts/install-deps.sh")
    work = tempfile.mkdtemp(prefix="supervent-bench-")
    rows = []

    eps, mbps, _, _, _ = run_daemon(args.bin_dir, ["--sink", "discard:", "--workers", "1", "--events", "20000000",
                                                   "--socket", f"{work}/a.sock"])
    rows.append(("superventd → discard: (1 worker, generator alone)", eps, mbps * 1e6, None))
    eps, mbps, _, _, _ = run_daemon(args.bin_dir, ["--sink", "file:/dev/null", "--workers", "1", "--events",
                                                   "20000000", "--socket", f"{work}/b.sock"])
    rows.append(("superventd → file:/dev/null (1 worker, io_uring writes)", eps, mbps * 1e6, None))

    # One batch's body, for wrk to post.
    body = os.path.join(work, "body.ndjson")
    run_daemon(args.bin_dir, ["--sink", f"file:{body}", "--workers", "1", "--events", "2000", "--socket", f"{work}/c.sock"])

    iperfs, wrks, http_eps_rounds, http_bps_rounds = [], [], [], []
    for _ in range(args.rounds):
        iperfs.append(iperf3_bytes_per_s(args.seconds))
        sink = Sink(args.bin_dir, work)
        wrks.append(wrk_bytes_per_s(sink, body, args.seconds))
        sink.stop()

        sink = Sink(args.bin_dir, work)
        eps, mbps, acked, _, peak_rss = run_daemon(args.bin_dir, ["--sink", f"http://127.0.0.1:{sink.port}", "--events",
                                                                  str(args.events), "--socket", f"{work}/d.sock"])
        received = sink.stats()["events"]
        sink.stop()
        if received != acked:
            sys.exit(f"the sink received {received} events but superventd acknowledged {acked}")
        http_eps_rounds.append(eps)
        http_bps_rounds.append(mbps * 1e6)
    iperf, wrk = statistics.median(iperfs), statistics.median(wrks)
    http_bytes = statistics.median(http_bps_rounds)
    rows.append((f"superventd → supervent-sink, HTTP over loopback (2 workers), median of {args.rounds}",
                 statistics.median(http_eps_rounds), http_bytes, None))

    # HTTPS on the same setup: a throwaway CA and certificate (test/net/tls_certs.sh),
    # supervent-sink --tls-cert, superventd --ca-file. TLS 1.3, AES-GCM in user space
    # unless the kernel has the tls module (kTLS).
    pki = os.path.join(work, "pki")
    subprocess.run(["sh", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "net",
                                       "tls_certs.sh"), pki], check=True, stdout=subprocess.DEVNULL)
    sink = Sink(args.bin_dir, work, ["--tls-cert", os.path.join(pki, "server.pem"),
                                     "--tls-key", os.path.join(pki, "server.key"), "--report",
                                     os.path.join(work, "tls-report.json")])
    # superventd and its peer, wrk posting the same body to the same TLS sink
    # (wrk does not verify the certificate; TLS 1.3 on both), alternate
    # --rounds times on that one sink, so load on a shared machine moves both.
    https_rounds, wrk_https_rounds, acked = [], [], 0
    for round_index in range(args.rounds):
        if round_index % 2 == 1:
            wrk_https_rounds.append(wrk_bytes_per_s(sink, body, args.seconds, scheme="https"))
        eps, mbps, round_acked, _, _ = run_daemon(args.bin_dir, ["--sink", f"https://localhost:{sink.port}",
                                                                 "--ca-file", os.path.join(pki, "ca.pem"), "--events",
                                                                 str(args.events), "--socket", f"{work}/t.sock"])
        acked += round_acked
        https_rounds.append((eps, mbps * 1e6))
        if round_index % 2 == 0:
            wrk_https_rounds.append(wrk_bytes_per_s(sink, body, args.seconds, scheme="https"))
    sink.stop()
    report = json.load(open(os.path.join(work, "tls-report.json")))
    received = report["events"] - report["datasets"].get("wrk", {}).get("events", 0)  # wrk posts to dataset wrk
    if received != acked:
        sys.exit(f"https: the sink received {received} events but superventd acknowledged {acked}")
    https_bytes = statistics.median(b for _, b in https_rounds)
    wrk_https = statistics.median(wrk_https_rounds)
    rows.append((f"superventd → supervent-sink --tls-cert, HTTPS over loopback (2 workers), median of {args.rounds}",
                 statistics.median(e for e, _ in https_rounds), https_bytes, None))
    rows.append((f"wrk -t2 -c4 POST of the same body → the same TLS sink, HTTPS, median", None, wrk_https, None))

    # zstd end to end: the sink decompresses and counts; both share the two cores.
    zstd_rows = []
    for level in ("1", "fast", "-5"):
        sink = Sink(args.bin_dir, work)
        z_eps, z_mbps, acked, _, _ = run_daemon(args.bin_dir, ["--sink", f"http://127.0.0.1:{sink.port}",
                                                               "--events", str(args.events), "--compression",
                                                               f"zstd:{level}", "--socket", f"{work}/z.sock"])
        received = sink.stats()["events"]
        sink.stop()
        if received != acked:
            sys.exit(f"zstd:{level}: the sink received {received} events but superventd acknowledged {acked}")
        rows.append((f"superventd --compression zstd:{level} → supervent-sink (2 workers)", z_eps, z_mbps * 1e6, None))
        zstd_rows.append((level, z_eps))

    # The zstd command line on one core, compressing the same NDJSON.
    sample = os.path.join(work, "sample.ndjson")
    run_daemon(args.bin_dir, ["--sink", f"file:{sample}", "--workers", "1", "--events", "200000", "--socket",
                              f"{work}/e.sock"])
    sample_events = 200000
    zstd_eps = {}
    for level in ("1", "-5"):
        started = time.monotonic()
        rounds = 5
        for _ in range(rounds):
            subprocess.run(["zstd", "-q", "-T1", f"-{level}" if level != "-5" else "--fast=5", "-c", sample],
                           stdout=subprocess.DEVNULL, check=True)
        zstd_eps[level] = rounds * sample_events / (time.monotonic() - started)
        rows.append((f"zstd -T1 {'-1' if level == '1' else '--fast=5'} on the same NDJSON (one core)",
                     zstd_eps[level], zstd_eps[level] * os.path.getsize(sample) / sample_events, None))
    rows.append((f"wrk -t2 -c4 POST of the same {os.path.getsize(body):,}-byte body → supervent-sink, median",
                 None, wrk, None))
    rows.append(("iperf3 -l 1M over loopback, median", None, iperf, None))

    print(f"\n{'what':<72} {'events/s':>12} {'MB/s':>10}")
    print("-" * 96)
    for name, eps, bps, _ in rows:
        print(f"{name:<72} {('%12.0f' % eps) if eps else '':>12} {bps / 1e6:10.1f}")
    print("-" * 96)
    if args.rounds > 1:
        mb = lambda values: ", ".join(f"{v / 1e6:.0f}" for v in values)
        print(f"rounds (MB/s): HTTP {mb(http_bps_rounds)}; iperf3 {mb(iperfs)}; wrk {mb(wrks)}")
        print(f"per-round HTTP / best of the two: "
              f"{', '.join(f'{h / max(i, w):.2f}' for h, i, w in zip(http_bps_rounds, iperfs, wrks))}")
    print(f"every supervent-sink ran with --threads {Sink.threads}")
    print(f"superventd HTTP / iperf3:  {http_bytes / iperf:.2f}")
    print(f"superventd HTTP / wrk:     {http_bytes / wrk:.2f}")
    print(f"superventd HTTP / best of the two: {http_bytes / max(iperf, wrk):.2f}")
    print(f"superventd HTTPS / HTTP (same run): {https_bytes / http_bytes:.2f}")
    print(f"superventd HTTPS / wrk HTTPS, same body, same TLS sink: {https_bytes / wrk_https:.2f} (rounds: "
          f"{', '.join(f'{b / w:.2f}' for (_, b), w in zip(https_rounds, wrk_https_rounds))})")
    for level, z_eps in zstd_rows:
        print(f"superventd zstd:{level} end to end / zstd CLI on one core: {z_eps / zstd_eps.get(level, zstd_eps['1']):.2f}"
              + (" (CLI -1)" if level not in zstd_eps else ""))
    fast = dict(zstd_rows)
    print(f"superventd zstd:fast / zstd:1 end to end (same run): {fast['fast'] / fast['1']:.2f}")
    print(f"peak RSS of superventd (HTTP run, defaults): {peak_rss / 2**20:.0f} MiB")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
