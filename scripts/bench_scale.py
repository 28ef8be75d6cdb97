#!/usr/bin/env python3
"""Scale curves of superventd (issue 21, item 5): events/s and memory against
workers (1, 2), batch size (500 to 10,000 events), connections per worker
(1, 2, 4) and instances (1, 2 processes, --shard i/N, one worker each), each
varied alone from the defaults (2 workers, 2,000 events a batch, 2
connections, 1 instance), over loopback HTTP to supervent-sink, uncompressed
and with zstd:1.

    scripts/bench_scale.py [--bin-dir build/bin] [--seconds 6] [--quick]

For every point the daemon runs --seconds at an unlimited rate while this
script samples /proc/PID/status (VmRSS, VmHWM) every 50 ms, and prints:
events/s and MB/s sent (the summary), the peak RSS (VmHWM), the RSS at 25, 50,
75 and 100 % of the run (flat = no growth once the buffers are mapped), and
the bound predicted by the memory formula of docs/architecture.md ("Memory"),
computed here from the same settings:

    process = fixed + workers x (worker + slots x slot_bytes + staging x batch_events
                                 [+ raw_batch + zstd context, compressed])

fixed and worker (code, libraries, the compiled scenario; a thread's stack and
ring) are measured in the same run with a discard: sink and 1-event batches;
the rest is computed from the settings and the scenario's event bound
(`superventd --check-config --json`). The sink checks every point: it must
count exactly the events superventd acknowledged.

Peers in the same run, for reference: wrk posting one 2,000-event body of the
same events to the same kind of sink, measured at the start of each curve
(the curve's ÷ wrk is to it), and iperf3 over loopback. Besides events/s,
events per worker CPU-second (the summary) moves less when the machine is
shared. A full run takes about 4 minutes; --quick about 1.5.
"""
import argparse
import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # importing bench_e2e leaves no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_e2e import Sink, iperf3_bytes_per_s, wrk_bytes_per_s  # noqa: E402  (the peers, shared)

SUMMARY = re.compile(r"summary: ([\d.]+) s, ([\d,]+) events/s, ([\d.]+) MB/s")
ACKED = re.compile(r"([\d,]+) acknowledged")
CPU = re.compile(r"workers used ([\d.]+) CPU-s")
MIB = 1 << 20

# The constants of the formula, as in the code (core/bounds.hpp, daemon/shard.cpp).
HEAD_ROOM = 2048                  # bounds::http_head_room_bytes
SLOTS_PER_CONNECTION = 2          # bounds::slots_per_connection
PIPELINE_BUDGET = 256 * MIB       # bounds::http_pipeline_slot_bytes_budget
PAGE = 4096                       # net/buffer_arena.cpp rounds slots to pages
# ScenarioEngine::Staging: 7 eight-byte columns, 2 + 1 + 4 bytes of shape,
# root flag and end offset, 5 eight-byte trace-context columns, an event.
STAGING_BYTES_PER_EVENT = 7 * 8 + 2 + 1 + 4 + 5 * 8
# net::HttpTransport: a response buffer per connection and one body scratch
# buffer, response_bytes_max each (bounds::http_response_bytes_max).
RESPONSE_BYTES = 64 * 1024

DEFAULTS = {"workers": 2, "batch": 2000, "connections": 2, "instances": 1}


def pipeline_depth_max(bin_dir):
    """superventd's default --pipeline-max (bounds::http_pipeline_depth_max_default), from its --help."""
    usage = subprocess.run([os.path.join(bin_dir, "superventd"), "--help"], capture_output=True, text=True).stdout
    found = re.search(r"--pipeline-max N.*?default (\d+)", usage, re.S)
    if found is None:
        sys.exit("superventd --help does not say --pipeline-max's default")
    return int(found.group(1))


def zstd_lib():
    try:
        lib = ctypes.CDLL("libzstd.so.1")
    except OSError:
        sys.exit("libzstd.so.1 is missing: run scripts/install-deps.sh")
    for name in ("ZSTD_compressBound", "ZSTD_estimateCCtxSize"):
        getattr(lib, name).restype = ctypes.c_size_t
    lib.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
    lib.ZSTD_estimateCCtxSize.argtypes = [ctypes.c_int]
    return lib


def memlock_budget(shards):
    """net::memlock_budget_bytes: 3/4 of RLIMIT_MEMLOCK a shard, unless CAP_IPC_LOCK or unlimited."""
    import resource
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    with open("/proc/self/status") as f:
        cap_eff = int(next(l for l in f if l.startswith("CapEff:")).split()[1], 16)
    if soft == resource.RLIM_INFINITY or (cap_eff >> 14) & 1:
        return None
    return soft // 4 * 3 // max(shards, 1)


def buffer_bytes(point, event_bytes_max, compressed, zstd, depth):
    """One worker's buffers by the formula (docs/architecture.md, Memory): (slots, slot bytes, total)."""
    batch = point["batch"]
    raw = batch * event_bytes_max
    body = zstd.ZSTD_compressBound(1 + raw) if compressed else raw
    slot = -(-(HEAD_ROOM + body) // PAGE) * PAGE
    slots = point["connections"] * (SLOTS_PER_CONNECTION if depth <= SLOTS_PER_CONNECTION else depth + 1)
    budget = PIPELINE_BUDGET
    memlock = memlock_budget(point["workers"])
    if memlock is not None:
        budget = min(budget, memlock)
    floor = point["connections"] * SLOTS_PER_CONNECTION
    if slots > floor and budget // slot < slots:
        slots = max(floor, budget // slot)
    total = slots * slot + STAGING_BYTES_PER_EVENT * batch + RESPONSE_BYTES * (point["connections"] + 1)
    if compressed:
        total += 1 + raw + zstd.ZSTD_estimateCCtxSize(1)
    return slots, slot, total


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def run_sampled(bin_dir, work, argvs, seconds):
    """Starts one superventd per argv, samples their RSS until all exit.
    Returns (stderr texts, samples [(t, summed VmRSS bytes)], summed peak VmHWM bytes, wall s)."""
    procs = []
    for i, argv in enumerate(argvs):
        err = open(os.path.join(work, f"err{time.monotonic_ns()}-{i}"), "w+")
        procs.append((subprocess.Popen([os.path.join(bin_dir, "superventd"), *argv], stdout=subprocess.DEVNULL,
                                       stderr=err), err))
    started = time.monotonic()
    samples, hwm = [], {}
    while any(p.poll() is None for p, _ in procs):
        if time.monotonic() - started > seconds + 120:
            for p, _ in procs:
                p.kill()
            sys.exit("superventd did not stop in time")
        rss, alive = 0, True
        for p, _ in procs:
            kib = status_kib(p.pid, "VmRSS:")
            peak = status_kib(p.pid, "VmHWM:")
            rss += (kib or 0) * 1024
            alive &= kib is not None
            if peak:
                hwm[p.pid] = max(hwm.get(p.pid, 0), peak * 1024)
        if alive:  # the run's RSS while every process of it runs
            samples.append((time.monotonic() - started, rss))
        time.sleep(0.05)
    wall = time.monotonic() - started
    texts = []
    for p, err in procs:
        err.seek(0)
        texts.append(err.read())
        err.close()
        if p.returncode != 0:
            sys.exit(f"superventd failed ({p.returncode}):\n{texts[-1]}")
    return texts, samples, sum(hwm.values()), wall


def rss_at(samples, fraction, seconds):
    """The sampled RSS nearest to this fraction of the run's --duration (not
    of the drain and exit after it, where the buffers are being unmapped)."""
    during = [s for s in samples if s[0] <= seconds] or samples[:1]
    return min(during, key=lambda s: abs(s[0] - fraction * seconds))[1]


def measure(bin_dir, work, point, compression, seconds):
    sink = Sink(bin_dir, work)
    argvs = []
    for i in range(point["instances"]):
        argv = ["--sink", f"http://127.0.0.1:{sink.port}", "--duration", f"{seconds}s", "--workers",
                str(point["workers"]), "--batch-events", str(point["batch"]), "--connections",
                str(point["connections"]), "--compression", compression, "--socket",
                os.path.join(work, f"d{time.monotonic_ns()}-{i}.sock")]
        if point["instances"] > 1:
            argv += ["--shard", f"{i}/{point['instances']}"]
        argvs.append(argv)
    # What the daemon itself predicts for its buffers (--check-config's memory line), summed over instances.
    said = 0
    for argv in argvs:
        check = subprocess.run([os.path.join(bin_dir, "superventd"), "--check-config", "--json", *argv],
                               capture_output=True, text=True)
        said += json.loads(check.stdout).get("buffer_bytes", 0) if check.returncode == 0 else 0
    texts, samples, peak, _ = run_sampled(bin_dir, work, argvs, seconds)
    received = sink.stats()["events"]
    sink.stop()
    eps = mbps = acked = cpu_s = 0.0
    for text in texts:
        match = SUMMARY.search(text)
        eps += float(match.group(2).replace(",", ""))
        mbps += float(match.group(3))
        acked += int(ACKED.search(text).group(1).replace(",", ""))
        cpu_s += float(CPU.search(text).group(1))
    if received != acked:
        sys.exit(f"{point}: the sink received {received} events but superventd acknowledged {int(acked)}")
    quarters = [rss_at(samples, f, seconds) for f in (0.25, 0.5, 0.75, 1.0)]
    return eps, mbps, acked / max(cpu_s, 1e-9), peak, quarters, said


def calibrate(bin_dir, work):
    """fixed and worker terms: discard:, 1-event batches, 1 and 2 workers (peak RSS)."""
    peaks = []
    for workers in (1, 2):
        argv = ["--sink", "discard:", "--duration", "1s", "--workers", str(workers), "--batch-events", "1",
                "--socket", os.path.join(work, f"cal{workers}.sock")]
        _, _, peak, _ = run_sampled(bin_dir, work, [argv], 1)
        peaks.append(peak)
    worker = max(peaks[1] - peaks[0], 0)
    return peaks[0] - worker, worker


def points(quick):
    batches = (500, 2000, 10000) if quick else (500, 1000, 2000, 5000, 10000)
    curves = [("workers", (1, 2)), ("batch", batches), ("connections", (1, 2, 4)), ("instances", (1, 2))]
    for name, values in curves:
        for value in values:
            point = dict(DEFAULTS, **{name: value})
            if name == "instances":
                point["workers"] = 1  # N processes of one worker each, --shard i/N (as scripts/bench-fleet.py)
            yield name, value, point


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", default="build/bin")
    parser.add_argument("--seconds", type=float, default=6, help="run time of each point (default 6)")
    parser.add_argument("--quick", action="store_true", help="3 s a point, batch sizes 500, 2000, 10000")
    parser.add_argument("--compression", default="none,zstd:1", help="modes to run, comma-separated")
    parser.add_argument("--soak", type=float, default=30,
                        help="seconds of one more run at the defaults, zstd:1, to show RSS flat (default 30; --quick 10)")
    args = parser.parse_args()
    if args.quick:
        args.seconds = min(args.seconds, 3)
        args.soak = min(args.soak, 10)
    for tool in ("iperf3", "wrk"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: run scripts/install-deps.sh")
    Sink.threads = os.cpu_count() or 1
    zstd = zstd_lib()
    work = tempfile.mkdtemp(prefix="supervent-bench-scale-")
    try:
        run(args, work, zstd)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, work, zstd):
    began = time.monotonic()
    print(f"cpu: {os.cpu_count()} cores, load average before: {os.getloadavg()[0]:.1f}")
    check = subprocess.run([os.path.join(args.bin_dir, "superventd"), "--check-config", "--json", "--sink",
                            "discard:"], capture_output=True, text=True, check=True)
    event_bytes_max = max(s["event_bytes_max"] for s in json.loads(check.stdout)["sources"])
    depth = pipeline_depth_max(args.bin_dir)
    fixed, worker = calibrate(args.bin_dir, work)
    print(f"formula terms: fixed {fixed / MIB:.1f} MiB, worker {worker / MIB:.1f} MiB (measured, discard:, "
          f"1-event batches), event bound {event_bytes_max} B (web_access), staging {STAGING_BYTES_PER_EVENT} "
          f"B/event, zstd:1 context {zstd.ZSTD_estimateCCtxSize(1) / MIB:.2f} MiB, pipeline depth max "
          f"{depth}")

    body = os.path.join(work, "body.ndjson")
    subprocess.run([os.path.join(args.bin_dir, "superventd"), "--sink", f"file:{body}", "--workers", "1", "--events",
                    "2000", "--socket", os.path.join(work, "body.sock")], check=True, stderr=subprocess.DEVNULL)
    peer_seconds = max(2, int(args.seconds))
    body_events_per_byte = 2000 / os.path.getsize(body)

    def wrk_row(curve):
        """wrk at the start of each curve: the ÷ wrk of the curve's rows is to this one, minutes apart at most."""
        sink = Sink(args.bin_dir, work)
        wrk = wrk_bytes_per_s(sink, body, peer_seconds)
        sink.stop()
        print(f"| {curve} | peer: wrk -t2 -c4 | none | {wrk * body_events_per_byte:,.0f} | {wrk / 1e6:,.0f} | 1.00 "
              f"| | | | | | | |", flush=True)
        return wrk

    header = (f"| curve | value | compression | events/s | MB/s | ÷ wrk | events/worker CPU-s | peak RSS MiB "
              f"| RSS 25/50/75/100 % MiB "
              f"| slots × slot MiB | predicted MiB | peak ÷ predicted | check-config buffers MiB |")
    print("\n" + header)
    print("|---|---:|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|")
    iperf = iperf3_bytes_per_s(peer_seconds)
    print(f"| peer | iperf3 -l 1M, loopback | | | {iperf / 1e6:,.0f} | | | | | | | | |")
    worst, wrk, curve = 0.0, None, None
    runs = [(name, value, point, compression) for name, value, point in points(args.quick)
            for compression in args.compression.split(",")]
    if args.soak > 0:
        runs.append((f"soak {args.soak:.0f} s", 2000, dict(DEFAULTS, seconds=args.soak), "zstd:1"))
    for name, value, point, compression in runs:
        if name != curve and not name.startswith("soak"):
            curve, wrk = name, wrk_row(name)
        compressed = compression != "none"
        eps, mbps, per_cpu, peak, quarters, said = measure(args.bin_dir, work, point, compression,
                                                           point.get("seconds", args.seconds))
        slots, slot, per_worker = buffer_bytes(point, event_bytes_max, compressed, zstd, depth)
        processes = point["instances"]
        predicted = processes * (fixed + point["workers"] * (worker + per_worker))
        worst = max(worst, peak / predicted)
        ratio = f"{eps / (wrk * body_events_per_byte):.2f}" if not compressed else ""
        print(f"| {name} | {value:,} | {compression} | {eps:,.0f} | {mbps:,.0f} | {ratio} | {per_cpu:,.0f} | "
              f"{peak / MIB:.0f} | "
              f"{' / '.join(f'{q / MIB:.0f}' for q in quarters)} | {slots} × {slot / MIB:.2f} | "
              f"{predicted / MIB:.0f} | {peak / predicted:.2f} | {said / MIB:.0f} |", flush=True)
    print(f"\n÷ wrk: events/s over the events/s of wrk posting the same 2,000-event NDJSON body to a "
          f"supervent-sink, measured at the start of the same curve; zstd rows send "
          f"compressed bytes, so MB/s there is the compressed rate.")
    print(f"events/worker CPU-s: acknowledged events over the workers' CPU time (the summary), which a loaded "
          f"machine moves less than events/s.")
    print(f"predicted: fixed + workers × (worker + buffers), by the formula here; check-config buffers: the "
          f"daemon's own estimate of the buffers alone (superventd --check-config --json, buffer_bytes).")
    print(f"instances: N processes of one worker each (--shard i/N), RSS and the prediction summed over them.")
    print(f"largest peak ÷ predicted: {worst:.2f}; load average after: {os.getloadavg()[0]:.1f} "
          f"(other engineers' jobs share these cores); {time.monotonic() - began:.0f} s in all")


if __name__ == "__main__":
    main()
