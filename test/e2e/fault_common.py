"""Shared pieces of the fault-matrix tests (test/e2e/fault_*.py): a daemon
running at a fixed rate that is sampled while faults come and go, a receiver
that can be swapped on one port (supervent-sink with or without --faults, or
a misbehaving Python server), and the checks every row makes:

- the daemon keeps running through the fault (or exits with the documented
  code when the fault is fatal);
- its memory stays bounded (VmRSS from /proc, sampled all along);
- accounting: acked + failed + in flight = generated in every status, and
  acked + failed = generated with nothing in flight at the end;
- nothing is lost or counted twice: the receivers together counted at least
  every acknowledged event and at most acked + what ambiguous retries (a
  request cut off after it was fully sent) may have duplicated;
- throughput recovers once the fault clears.
"""

import os
import re
import signal
import socket
import threading
import time

import harness
from harness import check

RATE = 20_000           # events/s: well within one core, so recovery is measurable on a loaded machine
BATCH = 1_000           # events per request: 20 requests/s
RSS_GROWTH_MAX_KIB = 48 * 1024   # after warm-up, the daemon may not grow by more than this
RSS_MAX_KIB = 256 * 1024         # the ceiling at defaults


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Receiver:
    """Whatever listens on one fixed loopback port over the test: a series
    of supervent-sinks (each stopped with SIGTERM, which writes its exact
    count) and Python fault servers, one at a time."""

    def __init__(self, h, name="sink"):
        self.h = h
        self.name = name        # of its processes: a test with two receivers names them apart
        self.port = harness.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.sink = None
        self.server = None
        self.counted = 0        # events counted by receivers already stopped
        self.generation = 0

    def start_sink(self, faults=None, extra=()):
        self.stop()
        self.generation += 1
        args = ["--listen", f"127.0.0.1:{self.port}"] + list(extra)
        if faults:
            args += ["--faults", faults]
        # The harness sink writes a port file; with a fixed port it is the same port.
        self.sink = self.h.start_sink(name=f"{self.name}-{self.generation}", verify=True, report=True, extra_args=args)
        check(self.sink.port == self.port, f"the sink bound {self.sink.port}, not {self.port}")
        self.h.log(f"receiver: supervent-sink {faults or '(no faults)'} on {self.port}")
        return self.sink

    def start_server(self, server_class):
        self.stop()
        self.server = server_class(self.port)
        self.h.log(f"receiver: {server_class.__name__} on {self.port}")
        return self.server

    def stop(self):
        """Nothing listens on the port afterwards (connects are refused)."""
        if self.sink is not None:
            report = self.sink.stop()
            check(report["invalid_events"] == 0, f"the sink saw {report['invalid_events']} invalid events")
            self.counted += report["events"]
            self.h.log(f"receiver: sink stopped after counting {report['events']} events "
                       f"({report['rejected_requests']} rejected, {report['faults_injected']} faults)")
            self.last_report = report
            self.sink = None
        if self.server is not None:
            self.server.close()
            self.server = None


class FaultServer:
    """A Python TCP server on a fixed port, one thread per connection.
    Subclasses define serve(conn)."""

    def __init__(self, port):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(64)
        self.closed = threading.Event()
        self.connections = []
        self.accepted = 0
        self.bytes_read = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                self.connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            self.serve(conn)
        except OSError:
            pass

    def read_request(self, conn):
        """Reads one request (Content-Length framing); returns False at EOF."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = conn.recv(min(1 << 20, length - len(body)))
            if not chunk:
                return False
            body += chunk
        with self.lock:
            self.bytes_read += len(data) + len(body) - len(body[length:])
        return True

    def close(self):
        self.closed.set()
        try:
            # shutdown first: close alone leaves a thread blocked in accept holding the port.
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            for conn in self.connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
                except OSError:
                    pass


class BlackHole(FaultServer):
    """Accepts, reads every byte and never answers (fault_blackhole.py and
    scripts/soak.py)."""

    def serve(self, conn):
        while True:
            data = conn.recv(1 << 20)
            if not data:
                return
            with self.lock:
                self.bytes_read += len(data)


class Daemon:
    """superventd at a fixed rate against one URL, sampled over its run."""

    def __init__(self, h, url, rate=RATE, workers=1, extra_args=(), name="superventd", timeout_s=110):
        self.h = h
        self.socket = h.path(f"{name}.sock")
        self.ctl = "ctl" if name == "superventd" else f"{name}-ctl"  # a test with two daemons names them apart
        self.rate = rate
        # --pipeline-max 8: the slots these tests were sized for (18). A slot
        # becomes resident when first used (io_uring pins it; under TSan its
        # shadow memory comes with it), and a fault that makes the sink look
        # far (late answers) deepens the pipeline toward its max: at the
        # default 24 (50 slots) that growth alone could pass
        # RSS_GROWTH_MAX_KIB without any leak.
        argv = [h.bin("superventd"), "--sink", url, "--rate", rate, "--workers", workers,
                "--batch-events", BATCH, "--socket", self.socket, "--no-pin",
                "--pipeline-max", 8] + list(extra_args)
        self.process = h.start(name, argv, timeout_s=timeout_s)
        self.samples = []   # (monotonic s, status, rss KiB)
        self.polls = 0
        self.rss_baseline = None
        harness.wait_running(h, self.process, self.socket)

    def status(self):
        self.polls += 1
        return harness.ctl_json(self.h, f"{self.ctl}-{self.polls}", self.socket, "status")

    def sample(self):
        check(self.process.running(), f"superventd exited with {self.process.poll()} during the fault")
        status = self.status()
        rss = rss_kib(self.process.pid)
        check_accounting(status)
        if self.samples:
            previous = self.samples[-1][1]
            for key in ("events_generated", "events_acked", "events_failed"):
                check(status[key] >= previous[key], f"{key} went backwards: {previous[key]} then {status[key]}")
        self.samples.append((time.monotonic(), status, rss))
        if rss is not None:
            check(rss <= RSS_MAX_KIB, f"superventd's RSS is {rss // 1024} MiB, over {RSS_MAX_KIB // 1024} MiB")
            if self.rss_baseline is not None:
                check(rss - self.rss_baseline <= RSS_GROWTH_MAX_KIB,
                      f"superventd's RSS grew from {self.rss_baseline // 1024} to {rss // 1024} MiB during faults")
        return status

    def run_for(self, seconds, interval_s=0.5, tag=""):
        """Samples for `seconds`; returns the status at the end."""
        deadline = time.monotonic() + seconds
        status = self.sample()
        while time.monotonic() < deadline:
            time.sleep(min(interval_s, max(0.0, deadline - time.monotonic())))
            status = self.sample()
        self.h.log(f"[{tag}] generated {status['events_generated']} acked {status['events_acked']} failed "
                   f"{status['events_failed']} ({status['events_failed_by_reason']}) in flight "
                   f"{status['events_in_flight']} retried {status['requests_retried']} "
                   f"ambiguous {status.get('requests_ambiguous', '-')} rss {self.samples[-1][2]} KiB")
        return status

    def warm_up(self, seconds=2.0):
        """Runs healthy for a while; the RSS after it is the baseline."""
        status = self.run_for(seconds, tag="warm-up")
        check(status["events_acked"] > 0, f"nothing acknowledged after {seconds} s of a healthy sink: {status}")
        self.rss_baseline = max(s[2] for s in self.samples if s[2] is not None)
        return status

    def acked_rate(self, seconds):
        """Acknowledged events/s over the last `seconds` of samples."""
        end_t, end, _ = self.samples[-1]
        for t, status, _ in reversed(self.samples):
            if end_t - t >= seconds:
                return (end["events_acked"] - status["events_acked"]) / (end_t - t)
        raise harness.TestFailure(f"fewer than {seconds} s of samples")

    def check_recovered(self, tag, seconds=2.0, share=0.8):
        rate = self.acked_rate(seconds)
        check(rate >= share * self.rate,
              f"[{tag}] throughput did not recover: {rate:,.0f} events/s acknowledged over the last {seconds} s, "
              f"target {self.rate:,} (at least {share:.0%} expected)")
        self.h.log(f"[{tag}] recovered: {rate:,.0f} acked events/s over the last {seconds} s")

    def quiet_swap(self, receiver, faults=None):
        """Swaps the sink with nothing queued or in flight (pause, settle,
        swap, resume), so the moment the port is closed costs no batch a
        retry: what fails afterwards fails because of the new sink's faults."""
        harness.ctl(self.h, f"{self.ctl}-pause-{self.polls}", self.socket, ["pause"])

        def settled():
            status = self.sample()
            return status["events_in_flight"] == 0
        self.h.wait_for("the batches in flight to settle", settled, timeout_s=20, interval_s=0.1)
        receiver.start_sink(faults)
        harness.ctl(self.h, f"{self.ctl}-resume-{self.polls}", self.socket, ["resume"])

    def stop(self):
        """`supervent-ctl stop` (which waits for the drain and answers with
        the final status), then the exit code and summary, both checked.
        Returns (summary, final status)."""
        result = self.h.run(f"{self.ctl}-stop", [self.h.bin("supervent-ctl"), "--socket", self.socket, "--json", "stop"],
                            timeout_s=60)
        check(result.rc in (0, 1), f"supervent-ctl stop exited {result.rc}: {result.stderr}")
        final = result.json()
        check_accounting(final)
        rc = self.process.wait(timeout_s=45)
        summary = harness.require_summary(self.process.stderr())
        self.h.log(f"superventd exited {rc}: {summary}; final status: ambiguous {final.get('requests_ambiguous')}")
        check_final(summary)
        # Documented: 0 only when every generated event was acknowledged, else 1.
        expect_rc = 0 if summary["failed"] == 0 else 1
        check(rc == expect_rc, f"superventd exited {rc} with {summary['failed']} events failed, expected {expect_rc}")
        return summary, final


def check_accounting(status):
    generated, acked, failed, in_flight = (status["events_generated"], status["events_acked"],
                                           status["events_failed"], status["events_in_flight"])
    check(min(generated, acked, failed, in_flight) >= 0, f"a negative count in {status}")
    check(acked + failed + in_flight == generated,
          f"acked {acked} + failed {failed} + in flight {in_flight} != generated {generated}")
    by_reason = sum(status["events_failed_by_reason"].values())
    check(by_reason == failed, f"failed by reason adds up to {by_reason}, not {failed}: {status}")


def check_final(summary):
    check(summary["in_flight"] == 0, f"events still in flight after the daemon exited: {summary}")
    check(summary["acked"] + summary["failed"] == summary["generated"],
          f"acked + failed != generated at the end: {summary}")


def check_delivery(h, receiver, summary, ambiguous_requests):
    """The receivers together counted every acknowledged event, and at most
    what ambiguous retries may have added on top."""
    counted = receiver.counted
    slack = ambiguous_requests * BATCH
    h.log(f"delivery: receivers counted {counted}, daemon acked {summary['acked']}, "
          f"ambiguous requests {ambiguous_requests} (up to {slack} duplicated events)")
    check(counted >= summary["acked"],
          f"lost: the daemon acknowledged {summary['acked']} events, the receivers counted only {counted}")
    check(counted <= summary["acked"] + slack,
          f"counted twice: the receivers counted {counted} events, the daemon acknowledged {summary['acked']} "
          f"and reported {ambiguous_requests} ambiguous requests (at most {slack} events)")


def recover_and_finish(h, receiver, daemon, seconds=4.0, tag="healthy"):
    """The fault has cleared (a healthy sink is up): run on, check the rate
    came back, stop the daemon and the receivers, and check delivery. Returns
    the daemon's summary and its last status."""
    daemon.run_for(seconds, tag=tag)
    daemon.check_recovered(tag)
    summary, final = daemon.stop()
    receiver.stop()
    check_delivery(h, receiver, summary, ambiguous(final))
    return summary, final


def ambiguous(status):
    """requests_ambiguous from a status (0 when this daemon has no such counter)."""
    return status.get("requests_ambiguous", 0)


def summary_ambiguous(stderr):
    """The ambiguous requests the summary's counters line reports (0 when absent)."""
    found = re.findall(r"(\d+) ambiguous", stderr)
    return int(found[-1]) if found else 0


def sink_down(h, receiver, daemon, seconds, tag):
    """Stops the receiver (its port refuses connects) for `seconds` while the
    daemon is sampled: nothing may fail while its batches' retry time lasts,
    and once the slots are full generation waits (back-pressure, not loss).
    Then a fresh receiver on the same port. Returns the last status while down."""
    receiver.stop()
    down_started = time.monotonic()
    status = daemon.run_for(seconds, tag=tag)
    check(status["events_failed"] == 0,
          f"[{tag}] events failed during a {seconds} s outage, within network.retry_for: "
          f"{status['events_failed_by_reason']}")
    if seconds >= 3:
        # The slots filled and generation stopped: over the last second of the
        # outage at most a slot's worth of events was made.
        before = [s for t, s, _ in daemon.samples if t <= time.monotonic() - 1.0 and t >= down_started]
        if before:
            grown = status["events_generated"] - before[-1]["events_generated"]
            check(grown <= status["slots_total"] * BATCH,
                  f"[{tag}] generated {grown} events in the last second of an outage: no back-pressure")
        outage = status.get("sink_unavailable")
        check(outage is not None and outage["batches_waiting"] > 0,
              f"[{tag}] status does not say the sink is unavailable with batches waiting: {outage}")
        h.log(f"[{tag}] status says: {outage}")
    receiver.start_sink()
    return status


def bounded_run_through_outages(h, outages_s, events, extra_args=()):
    """A bounded backfill (zstd on the wire) at RATE while the receiver is
    killed and restarted on the same port for each outage in turn. It must
    end by itself with exit 0, every event acknowledged, the receivers
    together counting each exactly once apart from the ambiguous requests
    the daemon reports, memory flat, and the log saying when the sink went
    away (with the cause) and when it came back."""
    receiver = Receiver(h)
    receiver.start_sink()
    daemon = Daemon(h, receiver.url, timeout_s=60 + events / RATE + 3 * sum(outages_s),
                    extra_args=["--events", events, "--compression", "zstd", "--start", "2026-01-01T00:00:00Z",
                                "--end", "2026-01-02T00:00:00Z", "--request-timeout", "5s"] + list(extra_args))
    daemon.warm_up()
    for seconds in outages_s:
        sink_down(h, receiver, daemon, seconds, tag=f"down {seconds} s")
        daemon.run_for(2.0, tag=f"back after {seconds} s")
    rc = daemon.process.wait(timeout_s=60 + events / RATE)
    stderr = daemon.process.stderr()
    summary = harness.require_summary(stderr)
    receiver.stop()
    ambiguous_requests = summary_ambiguous(stderr)
    h.log(f"superventd exited {rc}: {summary}; {ambiguous_requests} ambiguous requests")
    check(rc == 0, f"superventd exited {rc} after outages of {outages_s} s, expected 0:\n{stderr[-3000:]}")
    check(summary["generated"] == events and summary["acked"] == events and summary["failed"] == 0,
          f"not every event was acknowledged: {summary}")
    check_delivery(h, receiver, summary, ambiguous_requests)
    duplicates = receiver.counted - events
    print(f"OUTAGE {outages_s} s: lost {max(0, events - receiver.counted)}, duplicates {duplicates} "
          f"(ambiguous requests {ambiguous_requests}), exit {rc}", flush=True)
    check(re.search(r"unavailable since .*\(connect", stderr) is not None,
          f"the log does not say when the sink became unavailable and why:\n{stderr[-3000:]}")
    check("available again after" in stderr, f"the log does not say when the sink came back:\n{stderr[-3000:]}")
    return summary, stderr
