#!/usr/bin/env python3
"""Syslog over one TCP connection: superventd (syslog+tcp://, RFC 5424,
newline framing) against syslog-ng's loggen (--stream --size 200), each
into the same discard receiver in this script, in the same run.

The receiver counts bytes and LF-terminated messages, from the first byte
to the connection's close; the table shows messages/s, bytes per message
and MB/s for each sender, and the ratio. Both frame with LF so one receiver
counts both the same way (loggen's default is RFC 3164 with an LF; with
--syslog-proto it would count octets, which this receiver does not parse).

A third row sends RFC 3164 (no structured data: shorter messages, nearer
loggen's 200 bytes).

    scripts/bench_syslog.py [--bin-dir build/bin] [--events 3000000] [--seconds 5] [--rounds 3] [--syslog-ng]

--syslog-ng adds a run of each sender into syslog-ng itself (no-parse, to
/dev/null), counted by its own statistics.

The machine may be loaded by others: compare the ratio of the two rows of
one round, not wall-clock numbers across runs.
"""

import argparse
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time


class DiscardReceiver:
    """Accepts connections and counts what each sends until it closes."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.reset()
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self):
        with self.lock:
            self.bytes = 0
            self.messages = 0
            self.first = None
            self.last = None
            self.open = 0

    def _accept(self):
        while True:
            conn, _ = self.listener.accept()
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buffer = bytearray(4 << 20)
        view = memoryview(buffer)
        total = lines = 0
        first = None
        with self.lock:
            self.open += 1
        while True:
            n = conn.recv_into(view)
            if n <= 0:
                break
            if first is None:
                first = time.monotonic()
            total += n
            lines += buffer.count(b"\n", 0, n)
        last = time.monotonic()
        conn.close()
        with self.lock:
            self.bytes += total
            self.messages += lines
            if first is not None:
                self.first = first if self.first is None else min(self.first, first)
                self.last = last if self.last is None else max(self.last, last)
            self.open -= 1

    def wait_closed(self, timeout_s=30):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if self.open == 0 and self.first is not None:
                    return
            time.sleep(0.05)

    def result(self):
        with self.lock:
            seconds = (self.last - self.first) if self.first is not None else 0
            return self.messages, self.bytes, seconds


class SyslogNgReceiver:
    """syslog-ng itself as the receiver: one TCP source with newline framing
    (flags(no-parse): both senders' lines are taken alike) into /dev/null,
    counted by its own statistics (dst.file … written)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="supervent-bench-syslog-")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = os.path.join(self.dir, "syslog-ng.conf")
        with open(config, "w") as out:
            out.write(f"""@version: 3.38
options {{ stats-freq(0); use-dns(no); stats-level(1); }};
source s {{ network(ip("127.0.0.1") port({self.port}) transport("tcp") flags(no-parse) log-iw-size(100000)); }};
destination d {{ file("/dev/null"); }};
log {{ source(s); destination(d); }};
""")
        self.ctl = os.path.join(self.dir, "ctl")
        self.process = subprocess.Popen(["syslog-ng", "-F", "--no-caps", "-f", config, "-R", os.path.join(self.dir, "p"),
                                         "-p", os.path.join(self.dir, "pid"), "-c", self.ctl],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        self.base = 0

    def written(self):
        out = subprocess.run(["syslog-ng-ctl", "stats", "-c", self.ctl], capture_output=True, text=True).stdout
        match = re.search(r"^dst\.file;d#0;/dev/null;a;written;(\d+)$", out, re.M)
        return int(match.group(1)) if match else 0

    def measure(self, send):
        """Messages and seconds from the sender's start until syslog-ng wrote
        its last message (no growth for 1 s after the sender ended)."""
        self.base = self.written()
        started = time.monotonic()
        cpu_before = child_cpu_s()
        sender = threading.Thread(target=send)
        sender.start()
        last, last_at = self.base, started
        while True:
            time.sleep(0.05)
            now_written = self.written()
            if now_written != last:
                last, last_at = now_written, time.monotonic()
            elif not sender.is_alive() and time.monotonic() - last_at > 1.0:
                break
        sender.join()
        return last - self.base, last_at - started, child_cpu_s() - cpu_before

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def child_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_superventd(bin_dir, receiver, events, options="framing=newline"):
    url = f"syslog+tcp://127.0.0.1:{receiver.port}?{options}"
    argv = [os.path.join(bin_dir, "superventd"), "--sink", url, "--events", str(events), "--workers", "1",
            "--connections", "1", "--no-pin"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"superventd failed ({done.returncode}):\n{done.stderr[-2000:]}")


def run_loggen(receiver, seconds):
    argv = ["loggen", "--inet", "--stream", "--size", "200", "--rate", "100000000", "--interval", str(seconds),
            "--active-connections", "1", "127.0.0.1", str(receiver.port)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        sys.exit(f"loggen failed ({done.returncode}):\n{done.stderr[-2000:]}")
    match = re.search(r"average rate = ([\d.]+) msg/sec", done.stderr)
    return float(match.group(1)) if match else 0.0


def measure(receiver, send):
    """Messages, bytes and seconds as the receiver saw them, and the
    sender's CPU seconds (user + system: steadier than wall time on a
    loaded machine)."""
    receiver.reset()
    cpu_before = child_cpu_s()
    send()
    cpu_s = child_cpu_s() - cpu_before
    receiver.wait_closed()
    messages, total_bytes, seconds = receiver.result()
    return messages, total_bytes, seconds, cpu_s


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default="build/bin")
    parser.add_argument("--events", type=int, default=3_000_000)
    parser.add_argument("--seconds", type=int, default=5, help="loggen's run time")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--syslog-ng", action="store_true",
                        help="also send both into syslog-ng writing to /dev/null (its own statistics count)")
    args = parser.parse_args()
    if shutil.which("loggen") is None:
        sys.exit("loggen is missing: apt-get install syslog-ng-core (scripts/install-deps.sh)")
    receiver = DiscardReceiver()
    print(f"{'round':>5} {'sender':<34} {'messages':>11} {'bytes/msg':>9} {'seconds':>8} {'msg/s':>11} {'MB/s':>7} "
          f"{'sender CPU s':>12} {'msg/CPU-s':>11}")
    ratios, cpu_ratios = [], []
    for round_index in range(1, args.rounds + 1):
        rows, cpu_rows = {}, {}
        senders = (
            ("superventd syslog+tcp (RFC 5424)", lambda: run_superventd(args.bin_dir, receiver, args.events)),
            ("loggen --stream --size 200", lambda: run_loggen(receiver, args.seconds)),
            ("superventd syslog+tcp (RFC 3164)",
             lambda: run_superventd(args.bin_dir, receiver, args.events, "format=rfc3164")),
        )
        for name, send in senders:
            messages, total_bytes, seconds, cpu_s = measure(receiver, send)
            rate = messages / seconds if seconds > 0 else 0
            rows[name] = rate
            cpu_rows[name] = messages / cpu_s if cpu_s > 0 else 0
            print(f"{round_index:>5} {name:<34} {messages:>11,} {total_bytes / max(messages, 1):>9.0f} {seconds:>8.2f} "
                  f"{rate:>11,.0f} {total_bytes / max(seconds, 1e-9) / 1e6:>7.1f} {cpu_s:>12.2f} {cpu_rows[name]:>11,.0f}",
                  flush=True)
        values, cpu_values = list(rows.values()), list(cpu_rows.values())
        ratios.append((values[0] / values[1], values[2] / values[1]) if values[1] else (0, 0))
        cpu_ratios.append((cpu_values[0] / cpu_values[1], cpu_values[2] / cpu_values[1]) if cpu_values[1] else (0, 0))
    if args.syslog_ng:
        daemon = SyslogNgReceiver()
        print("into syslog-ng (network() source, no-parse, file(\"/dev/null\")), counted by syslog-ng-ctl stats:")
        print(f"{'sender':<34} {'messages':>11} {'seconds':>8} {'msg/s':>11} {'sender CPU s':>12}")
        for name, send in (("superventd syslog+tcp (RFC 5424)", lambda: run_superventd(args.bin_dir, daemon, args.events // 4)),
                           ("loggen --stream --size 200", lambda: run_loggen(daemon, args.seconds))):
            messages, seconds, cpu_s = daemon.measure(send)
            print(f"{name:<34} {messages:>11,} {seconds:>8.2f} {messages / max(seconds, 1e-9):>11,.0f} {cpu_s:>12.2f}",
                  flush=True)
        daemon.stop()
    print("superventd / loggen, messages per second (RFC 5424, RFC 3164) by round: "
          + ", ".join(f"{a:.2f} {b:.2f}" for a, b in ratios))
    print("superventd / loggen, messages per CPU second (RFC 5424, RFC 3164) by round: "
          + ", ".join(f"{a:.2f} {b:.2f}" for a, b in cpu_ratios))


if __name__ == "__main__":
    main()
