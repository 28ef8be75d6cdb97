"""Shared helpers for the end-to-end tests: they start the real superventd,
supervent-sink and supervent-ctl (and nginx) as subprocesses on loopback.

Rules every test follows through this module:
- everything lives in a fresh temp dir; ports are picked by the kernel (port 0
  and a port file) or by binding port 0 here, never fixed;
- every child has a hard timeout, is killed when the test ends however it
  ends, and dies with the test even if the test itself is SIGKILLed by ctest
  (PR_SET_PDEATHSIG);
- on failure the test prints what it asserted and the logs of every child.

A test is a function taking a Harness; run it with harness.main(test_fn).
"""

import argparse
import ctypes
import json
import re
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

REPO_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    # Runs in the child between fork and exec: if the test process dies
    # (even by SIGKILL on a ctest timeout), the child gets SIGKILL too.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class TestFailure(Exception):
    pass


def check(condition, message):
    """Assert that stays on under python -O and says what was expected."""
    if not condition:
        raise TestFailure(message)


def free_port():
    """A loopback TCP port nothing listens on right now (for peers, like
    nginx, that cannot report the port they bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process with its output in files and a hard deadline."""

    def __init__(self, harness, name, argv, timeout_s, env=None, stdin=subprocess.DEVNULL):
        self.harness = harness
        self.name = name
        self.argv = [str(a) for a in argv]
        self.timeout_s = timeout_s
        self.stdout_path = harness.path(f"{name}.stdout")
        self.stderr_path = harness.path(f"{name}.stderr")
        self._stdout = open(self.stdout_path, "wb")
        self._stderr = open(self.stderr_path, "wb")
        self.started = time.monotonic()
        self.killed_by_deadline = False
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.popen = subprocess.Popen(
            self.argv, stdin=stdin, stdout=self._stdout, stderr=self._stderr, env=full_env,
            cwd=harness.dir, preexec_fn=_die_with_parent)
        self.pid = self.popen.pid
        self._watchdog = threading.Timer(timeout_s, self._on_deadline)
        self._watchdog.daemon = True
        self._watchdog.start()
        harness._processes.append(self)

    def _on_deadline(self):
        if self.popen.poll() is None:
            self.killed_by_deadline = True
            self.popen.kill()

    def poll(self):
        return self.popen.poll()

    def running(self):
        return self.popen.poll() is None

    def wait(self, timeout_s=None):
        """Exit code; fails the test if the process outlives timeout_s (or
        its hard deadline)."""
        try:
            rc = self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"{self.name} still running after {timeout_s} s (pid {self.pid})")
        self._finish()
        check(not self.killed_by_deadline,
              f"{self.name} exceeded its hard timeout of {self.timeout_s} s and was killed")
        return rc

    def signal(self, signum):
        if self.popen.poll() is None:
            self.popen.send_signal(signum)

    def kill(self):
        """Ends the process now (SIGTERM, then SIGKILL after 5 s)."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._finish()

    def _finish(self):
        self._watchdog.cancel()
        for f in (self._stdout, self._stderr):
            if not f.closed:
                f.close()

    def elapsed_s(self):
        return time.monotonic() - self.started

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def describe(self):
        state = "running" if self.popen.poll() is None else f"exit code {self.popen.returncode}"
        return f"{self.name} (pid {self.pid}, {state}): {' '.join(self.argv)}"


class Result:
    """A finished short-lived command."""

    def __init__(self, process, rc):
        self.process = process
        self.rc = rc
        self.stdout = process.stdout()
        self.stderr = process.stderr()
        self.elapsed_s = process.elapsed_s()

    def json(self):
        try:
            return json.loads(self.stdout)
        except ValueError as error:
            raise TestFailure(f"{self.process.name}: stdout is not one JSON object ({error}):\n{self.stdout}")


class Sink:
    """A running supervent-sink on 127.0.0.1 with a kernel-picked port."""

    def __init__(self, harness, name, verify, report, extra_args, timeout_s):
        self.harness = harness
        self.port_file = harness.path(f"{name}.port")
        self.report_file = harness.path(f"{name}.report.json") if report else None
        argv = [harness.bin("supervent-sink"), "--listen", "127.0.0.1:0", "--port-file", self.port_file]
        if verify:
            argv.append("--verify")
        if self.report_file:
            argv += ["--report", self.report_file]
        argv += list(extra_args)
        self.process = harness.start(name, argv, timeout_s=timeout_s)
        self.port = harness.wait_for_port_file(self.port_file, self.process)
        self.url = f"http://127.0.0.1:{self.port}"

    def stats(self):
        with urllib.request.urlopen(f"{self.url}/stats", timeout=10) as reply:
            check(reply.status == 200, f"GET /stats answered {reply.status}")
            return json.loads(reply.read())

    def stop(self):
        """SIGTERM; returns the report (or the last /stats when there is no
        report file)."""
        if self.report_file is None:
            stats = self.stats()
        self.process.signal(signal.SIGTERM)
        rc = self.process.wait(timeout_s=15)
        check(rc == 0, f"supervent-sink exited {rc} on SIGTERM, expected 0")
        if self.report_file is None:
            return stats
        check(os.path.exists(self.report_file), f"supervent-sink wrote no report to {self.report_file}")
        with open(self.report_file) as f:
            return json.load(f)


class Harness:
    def __init__(self, name, bin_dir):
        self.name = name
        self.bin_dir = os.path.abspath(bin_dir)
        self.dir = tempfile.mkdtemp(prefix=f"supervent-e2e-{name}-")
        self._processes = []
        self.started = time.monotonic()

    # Paths and binaries -------------------------------------------------
    def path(self, name):
        return os.path.join(self.dir, name)

    def bin(self, program):
        path = os.path.join(self.bin_dir, program)
        check(os.access(path, os.X_OK), f"{path} is missing or not executable: build the 'all' target first")
        return path

    def log(self, text):
        print(f"[{time.monotonic() - self.started:7.2f}s] {text}", flush=True)

    # Processes ----------------------------------------------------------
    def start(self, name, argv, timeout_s=60, env=None, stdin=subprocess.DEVNULL):
        """Starts a background child; name must be unique in this test."""
        check(all(p.name != name for p in self._processes), f"process name {name} used twice")
        process = Process(self, name, argv, timeout_s, env=env, stdin=stdin)
        self.log(f"started {process.describe()}")
        return process

    def run(self, name, argv, timeout_s=60, env=None):
        """Runs a command to completion within timeout_s; returns a Result."""
        process = self.start(name, argv, timeout_s=timeout_s + 5, env=env)
        rc = process.wait(timeout_s=timeout_s)
        result = Result(process, rc)
        self.log(f"{name} exited {rc} after {result.elapsed_s:.2f} s")
        return result

    def wait_for_port_file(self, path, process, timeout_s=10):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            check(process.running(), f"{process.name} exited with {process.poll()} before writing {path}")
            try:
                with open(path) as f:
                    text = f.read().strip()
                if text:
                    return int(text)
            except FileNotFoundError:
                pass
            time.sleep(0.02)
        raise TestFailure(f"{process.name} wrote no port to {path} within {timeout_s} s")

    def wait_for(self, what, predicate, timeout_s, interval_s=0.05):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(interval_s)
        raise TestFailure(f"timed out after {timeout_s} s waiting for {what}")

    def start_sink(self, name="sink", verify=True, report=True, extra_args=(), timeout_s=110):
        return Sink(self, name, verify, report, extra_args, timeout_s)

    # Clean-up -----------------------------------------------------------
    def cleanup(self, failed):
        for process in self._processes:
            process.kill()
        if failed:
            print("\n==== diagnostics ====", flush=True)
            for process in self._processes:
                print(f"---- {process.describe()}")
                for label, path in (("stdout", process.stdout_path), ("stderr", process.stderr_path)):
                    try:
                        with open(path, "rb") as f:
                            data = f.read()
                    except OSError:
                        continue
                    if len(data) > 8000:  # e.g. NDJSON on stdout: the end is what matters
                        data = b"...(%d bytes, last 8000 shown)...\n" % len(data) + data[-8000:]
                    print(f"---- {label}:\n{data.decode('utf-8', 'replace')}", flush=True)
            print(f"(temp dir kept: {self.dir})", flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


# Daemon helpers -----------------------------------------------------------

def parse_summary(stderr):
    """superventd's final summary line as a dict of counts, or None."""
    match = None
    for match in re.finditer(
            r"summary: ([\d,]+) events generated, ([\d,]+) acknowledged, ([\d,]+) failed, ([\d,]+) in flight", stderr):
        pass
    if match is None:
        return None
    keys = ("generated", "acked", "failed", "in_flight")
    return dict(zip(keys, (int(g.replace(",", "")) for g in match.groups())))


def require_summary(stderr):
    summary = parse_summary(stderr)
    check(summary is not None, "superventd printed no summary line ('summary: N events generated, ...') on stderr")
    return summary


def check_drained_exactly(h, summary, sink, floor, tag):
    """After a stop: nothing failed or in flight, at least `floor` acked, and the
    sink (stopped here) counted exactly what the daemon acknowledged, all valid."""
    check(summary["failed"] == 0 and summary["in_flight"] == 0,
          f"[{tag}] after the drain nothing may be failed or in flight: {summary}")
    check(summary["generated"] == summary["acked"], f"[{tag}] generated != acked after the drain: {summary}")
    check(summary["acked"] >= floor, f"[{tag}] acked {summary['acked']} < {floor} seen before the stop")
    report = sink.stop()
    h.log(f"[{tag}] sink report: {report}")
    check(report["events"] == summary["acked"],
          f"[{tag}] the sink counted {report['events']} events, the daemon acknowledged {summary['acked']}: "
          f"{'lost' if report['events'] < summary['acked'] else 'counted twice'} "
          f"{abs(report['events'] - summary['acked'])}")
    check(report["invalid_events"] == 0, f"[{tag}] {report['invalid_events']} invalid events (a torn batch?)")
    return report


def ctl_json(harness, name, socket_path, command, expect_rc=0, timeout_s=30):
    result = harness.run(name, [harness.bin("supervent-ctl"), "--socket", socket_path, "--json", command],
                         timeout_s=timeout_s)
    check(result.rc == expect_rc,
          f"supervent-ctl --json {command} exited {result.rc}, expected {expect_rc}; stderr: {result.stderr}")
    return result.json()


def ctl(harness, name, socket_path, args, expect_rc=0, json_out=True, timeout_s=30, user=None):
    """supervent-ctl --socket SOCK [--json] ARGS...; checks the exit code and
    returns the parsed JSON reply (json_out) or the Result. `user` runs it as
    that uid/gid via setpriv (the test must run as root)."""
    argv = [harness.bin("supervent-ctl"), "--socket", socket_path] + (["--json"] if json_out else []) + list(args)
    if user is not None:
        uid, gid = user
        argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"] + argv
    result = harness.run(name, argv, timeout_s=timeout_s)
    check(result.rc == expect_rc,
          f"supervent-ctl {' '.join(str(a) for a in args)} exited {result.rc}, expected {expect_rc}; "
          f"stdout: {result.stdout!r} stderr: {result.stderr!r}")
    return result.json() if json_out else result


def wait_running(harness, daemon, socket_path, timeout_s=20):
    """Waits until the daemon's status says running; returns that status."""
    seen = {}

    def probe():
        check(daemon.running(), f"{daemon.name} exited with {daemon.poll()} while starting")
        if not os.path.exists(socket_path):
            return False
        probe.count += 1
        result = harness.run(f"{daemon.name}-probe-{probe.count}",
                             [harness.bin("supervent-ctl"), "--socket", socket_path, "--json", "status"], timeout_s=15)
        if result.rc != 0:
            return False
        seen["status"] = result.json()
        return seen["status"]["state"] == "running"
    probe.count = 0
    harness.wait_for(f"{daemon.name} to report state running", probe, timeout_s=timeout_s, interval_s=0.1)
    return seen["status"]


# Entry point --------------------------------------------------------------

def main(test_fn):
    """Parses --bin-dir, runs test_fn(harness), cleans up, exits 0/1."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True, help="directory holding superventd, supervent-ctl, supervent-sink")
    args = parser.parse_args()
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    harness = Harness(name, args.bin_dir)

    # ctest sends SIGTERM? (it SIGKILLs on timeout; PDEATHSIG covers that).
    # A SIGTERM/SIGINT here becomes an exception so clean-up still runs.
    def on_signal(signum, _frame):
        raise TestFailure(f"test interrupted by signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    failed = True
    try:
        test_fn(harness)
        failed = False
    except TestFailure as failure:
        print(f"\nFAIL {name}: {failure}", flush=True)
    except Exception:
        print(f"\nFAIL {name}: unexpected error", flush=True)
        traceback.print_exc()
    finally:
        harness.cleanup(failed)
    elapsed = time.monotonic() - harness.started
    print(f"{'FAIL' if failed else 'PASS'} {name} in {elapsed:.2f} s", flush=True)
    sys.exit(1 if failed else 0)
