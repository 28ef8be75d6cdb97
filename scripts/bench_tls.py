#!/usr/bin/env python3
"""superventd over HTTPS beside wrk over HTTPS posting the same body to the
same TLS sink, in alternating rounds, so a shared machine's load moves both
alike; optionally a second superventd build (--baseline-bin-dir) in the same
rounds, for before/after. Then session resumption: a run against a sink that
closes 5 % of connections (--faults close@5%) and the handshakes it cost.

    scripts/bench_tls.py [--bin-dir build/bin] [--baseline-bin-dir DIR]
                         [--events 3000000] [--seconds 3] [--rounds 3]

Besides wall-clock MB/s, each sender's process CPU (user + system) per MB
sent: wrk only resends a static body, superventd also generates it, so
"wrk/this" above 1 means superventd's whole send path, generation included,
costs less CPU per byte than wrk's. Every sink has --threads 2 (one per CPU); the sink's event count is checked
against superventd's acknowledgements each round.
"""
import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_e2e import Sink, run_daemon, wrk_bytes_per_s  # noqa: E402

HANDSHAKES = re.compile(r"TLS: (\d+) handshakes \((\d+) resumed\)")


def children_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def daemon_https(bin_dir, work, pki, sink, events, extra=()):
    args = ["--sink", f"https://localhost:{sink.port}", "--ca-file", os.path.join(pki, "ca.pem"),
            "--events", str(events), "--socket", os.path.join(work, f"s{os.getpid()}.sock"), *extra]
    cpu_before = children_cpu_s()
    proc = subprocess.run([os.path.join(bin_dir, "superventd"), *args], capture_output=True, text=True,
                          timeout=600)
    process_cpu_s = children_cpu_s() - cpu_before
    if proc.returncode != 0:
        sys.exit(f"superventd {' '.join(args)} failed:\n{proc.stderr}")
    summary = re.search(r"summary: ([\d.]+) s, ([\d,]+) events/s, ([\d.]+) MB/s", proc.stderr)
    cpu = re.search(r"workers used ([\d.]+) CPU-s", proc.stderr)
    acked = int(re.search(r"([\d,]+) acknowledged", proc.stderr).group(1).replace(",", ""))
    hs = HANDSHAKES.search(proc.stderr)
    sent = int(re.search(r"([\d,]+) bytes sent", proc.stderr).group(1).replace(",", ""))
    return {"cpu_us_per_mb": process_cpu_s / (sent / 1e6) * 1e6,"mbps": float(summary.group(3)), "eps": float(summary.group(2).replace(",", "")),
            "cpu_s": float(cpu.group(1)) if cpu else float("nan"), "acked": acked,
            "handshakes": int(hs.group(1)) if hs else 0, "resumed": int(hs.group(2)) if hs else 0,
            "connects": int(re.search(r"([\d,]+) connections opened", proc.stderr).group(1).replace(",", ""))}


def tls_sink(bin_dir, work, pki, extra=()):
    report = os.path.join(work, f"report{len(os.listdir(work))}.json")
    sink = Sink(bin_dir, work, ["--tls-cert", os.path.join(pki, "server.pem"), "--tls-key",
                                os.path.join(pki, "server.key"), "--report", report, *extra])
    return sink, report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default="build/bin")
    parser.add_argument("--baseline-bin-dir", help="another build's bin dir, run in the same rounds")
    parser.add_argument("--events", type=int, default=3_000_000)
    parser.add_argument("--seconds", type=int, default=3, help="wrk's duration per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    Sink.threads = os.cpu_count() or 1
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: run scripts/install-deps.sh")
    work = tempfile.mkdtemp(prefix="supervent-bench-tls-")
    pki = os.path.join(work, "pki")
    subprocess.run(["sh", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "net",
                                       "tls_certs.sh"), pki], check=True, stdout=subprocess.DEVNULL)
    body = os.path.join(work, "body.ndjson")  # one batch's body, for wrk
    run_daemon(args.bin_dir, ["--sink", f"file:{body}", "--workers", "1", "--events", "2000",
                              "--socket", os.path.join(work, "c.sock")])

    builds = [("superventd", args.bin_dir)]
    if args.baseline_bin_dir:
        builds.append(("baseline", args.baseline_bin_dir))
    results = {name: [] for name, _ in builds}
    wrks = []
    print(f"{'round':>5} {'sender':<12} {'MB/s':>8} {'CPU-s':>6} {'/ wrk':>6} {'CPU µs/MB':>10} {'wrk/this':>8}")
    wrk_cpus = []
    for round_index in range(args.rounds):
        order = builds if round_index % 2 == 0 else list(reversed(builds))
        sink, report = tls_sink(args.bin_dir, work, pki)
        cpu_before = children_cpu_s()
        wrk = wrk_bytes_per_s(sink, body, args.seconds, scheme="https") / 1e6
        wrk_cpu_us_per_mb = (children_cpu_s() - cpu_before) / (wrk * args.seconds) * 1e6
        acked = 0
        for name, bin_dir in order:
            result = daemon_https(bin_dir, work, pki, sink, args.events)
            results[name].append(result)
            acked += result["acked"]
        sink.stop()
        stats = json.load(open(report))
        received = stats["events"] - stats["datasets"].get("wrk", {}).get("events", 0)
        if received != acked:
            sys.exit(f"the sink received {received} events but superventd acknowledged {acked}")
        wrks.append(wrk)
        wrk_cpus.append(wrk_cpu_us_per_mb)
        print(f"{round_index + 1:>5} {'wrk -t2 -c4':<12} {wrk:>8.1f} {'':>6} {'':>6} {wrk_cpu_us_per_mb:>10.0f}")
        for name, _ in builds:
            r = results[name][-1]
            print(f"{round_index + 1:>5} {name:<12} {r['mbps']:>8.1f} {r['cpu_s']:>6.2f} {r['mbps'] / wrk:>6.2f} "
                  f"{r['cpu_us_per_mb']:>10.0f} {wrk_cpu_us_per_mb / r['cpu_us_per_mb']:>8.2f}")
    print("-" * 44)
    wrk = statistics.median(wrks)
    print(f"median wrk HTTPS (same body, same TLS sink): {wrk:.1f} MB/s")
    for name, _ in builds:
        mbps = statistics.median(r["mbps"] for r in results[name])
        per_round = ", ".join(f"{r['mbps'] / w:.2f}" for r, w in zip(results[name], wrks))
        cpu = statistics.median(r["cpu_s"] for r in results[name])
        cpu_ratio = statistics.median(w / r["cpu_us_per_mb"] for r, w in zip(results[name], wrk_cpus))
        print(f"{name}: median {mbps:.1f} MB/s, {cpu:.2f} worker CPU-s per {args.events:,} events, "
              f"/ wrk per round: {per_round}; wrk's process CPU per MB / this one's (median): {cpu_ratio:.2f}")

    # Session resumption: connections the sink closes are reopened with the kept session.
    sink, _ = tls_sink(args.bin_dir, work, pki, ["--faults", "close@5%"])
    r = daemon_https(args.bin_dir, work, pki, sink, min(args.events, 1_000_000), ["--retry-for", "60s"])
    sink.stop()
    print(f"resumption: {r['connects']} connections, {r['handshakes']} handshakes, {r['resumed']} resumed "
          f"(sink closing 5 % of connections), {r['mbps']:.1f} MB/s")


if __name__ == "__main__":
    main()
