#!/usr/bin/env python3
"""e2e.fault_failed_resend: a checkpointed backfill some of whose batches
fail for good in the middle (the receiver answers 400 to a few requests)
records which in its checkpoint; the same command run again against a
healthy receiver sends exactly those batches and nothing else (issue 13,
item 5: not everything after the first failed batch, as format 1 did).

Four runs of the same backfill (two workers, fixed seed), each against a
recording receiver on loopback that hashes every event line it accepts:
1. clean: the reference, every event once;
2. with --checkpoint, the receiver refusing requests 12-14, 31 and 47 with
   400 (fewer in a row than make the daemon give up): exits 1, its failed
   events counted, the checkpoint not complete and holding `failed` records;
3. the same command again, the receiver refusing one of the requests: makes
   and sends exactly the events run 2 failed (5 requests), exits 1, and the
   checkpoint records the one batch refused again;
4. the same command again, the receiver healthy: sends that batch alone,
   exits 0, and the checkpoint is complete.
The events the receiver accepted in runs 2, 3 and 4 together are run 1's,
each exactly once (sorted hashes equal).

The receiver is a small Python HTTP/1.1 server (keep-alive, pipelining) and
not supervent-sink, because the check needs the events' content and
supervent-sink only counts them."""

import hashlib
import re
import socket
import threading

import harness
from harness import check

EVENTS = 60_000
BATCH = 500
REFUSED = {12, 13, 14, 31, 47}   # request numbers (from 0) answered 400 in run 2
COMMON = ["--events", EVENTS, "--start", "2026-01-01T00:00:00Z", "--end", "2026-01-02T00:00:00Z",
          "--seed", 7, "--workers", 2, "--batch-events", BATCH, "--compression", "none", "--no-pin",
          "--connections", 2]


class Recorder:
    """Answers each ingest request 200 {"ingested": N} and keeps the sha256
    of each event line, or 400 for the request numbers in `refused`."""

    def __init__(self, refused=()):
        self.refused = set(refused)
        self.lock = threading.Lock()
        self.requests = 0
        self.hashes = []
        self.refused_events = 0
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        stream = conn.makefile("rb")
        try:
            while self._one(conn, stream):
                pass
        except OSError:
            pass
        finally:
            conn.close()

    def _one(self, conn, stream):
        request_line = stream.readline()
        if not request_line:
            return False
        length = 0
        while True:
            line = stream.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            check(name.strip().lower() != b"content-encoding", "expected uncompressed bodies")
        body = stream.read(length)
        events = [line for line in body.split(b"\n") if line.strip()]
        with self.lock:
            number = self.requests
            self.requests += 1
            refuse = number in self.refused
            if refuse:
                self.refused_events += len(events)
            else:
                self.hashes.extend(hashlib.sha256(e).hexdigest() for e in events)
        if refuse:
            answer = b'{"code":400,"message":"refused by the test (a window of bad requests)"}'
            head = b"HTTP/1.1 400 Bad Request\r\n"
        else:
            answer = b'{"ingested":%d,"failed":0,"failures":[]}' % len(events)
            head = b"HTTP/1.1 200 OK\r\n"
        conn.sendall(head + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(answer) + answer)
        return True

    def close(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()


def run_daemon(h, name, recorder, extra=()):
    result = h.run(name, [h.bin("superventd"), "--sink", recorder.url, "--socket", h.path(f"{name}.sock"),
                          *COMMON, *extra], timeout_s=50)
    summary = harness.require_summary(result.stderr)
    h.log(f"{name}: exit {result.rc}, {summary}, receiver took {len(recorder.hashes)} events in "
          f"{recorder.requests} requests, refused {recorder.refused_events}")
    return result, summary


def test(h):
    clean = Recorder()
    result, summary = run_daemon(h, "clean", clean)
    check(result.rc == 0 and summary["acked"] == EVENTS, f"the clean run: exit {result.rc}, {summary}")
    check(len(clean.hashes) == EVENTS, f"the clean run's receiver took {len(clean.hashes)} of {EVENTS} events")
    reference = sorted(clean.hashes)
    clean.close()

    checkpoint = h.path("failed.checkpoint")
    faulty = Recorder(REFUSED)
    result, first = run_daemon(h, "with-failures", faulty, ["--checkpoint", checkpoint])
    faulty.close()
    check(result.rc == 1, f"a run with failed events exits 1, not {result.rc}:\n{result.stderr[-2000:]}")
    # Random arrivals end some batches early (at a slice's edge), so a batch
    # holds at most BATCH events: the refused requests' events are what failed.
    check(0 < first["failed"] == faulty.refused_events <= len(REFUSED) * BATCH,
          f"expected the {len(REFUSED)} refused requests' events failed: {first}, "
          f"the receiver refused {faulty.refused_events}")
    check(first["acked"] + first["failed"] == EVENTS, f"the first run settled every event: {first}")
    with open(checkpoint) as f:
        text = f.read()
    h.log(f"the checkpoint after the failures:\n{text}")
    check(text.startswith("supervent checkpoint 2\n") and "complete no" in text, "expected an incomplete format 2 checkpoint")
    recorded = sum(int(n) for n in re.findall(r"^failed \d+ \d+ \d+ \d+ (\d+)$", text, re.M))
    check(recorded == first["failed"], f"the checkpoint records {recorded} failed events, the run failed {first['failed']}")

    # The rerun: one of the resent requests is refused again; the checkpoint then records that one alone.
    again = Recorder({2})
    result, second = run_daemon(h, "resend-with-a-failure", again, ["--checkpoint", checkpoint])
    again.close()
    check(result.rc == 1, f"a rerun with a failed batch exits 1, not {result.rc}:\n{result.stderr[-2000:]}")
    print(f"RESEND: the rerun made {second['generated']} events and sent them in {again.requests} requests; "
          f"the first run failed {first['failed']}", flush=True)
    check(second["generated"] == first["failed"] and again.requests == len(REFUSED),
          f"the rerun must make and send exactly the {first['failed']} failed events, in {len(REFUSED)} requests: "
          f"{second}, the receiver had {again.requests} requests")
    check(0 < second["failed"] == again.refused_events <= BATCH, f"expected one batch failed again: {second}")
    said = f"sending again the {first['failed']:,} events of the 5 batches that failed"
    check(said in result.stderr or said.replace(",", "") in result.stderr,
          f"expected the resume to say what it sends again:\n{result.stderr[-2000:]}")
    with open(checkpoint) as f:
        text = f.read()
    h.log(f"the checkpoint after the rerun:\n{text}")
    check(re.findall(r"^failed .*", text, re.M) and
          sum(int(n) for n in re.findall(r"^failed \d+ \d+ \d+ \d+ (\d+)$", text, re.M)) == second["failed"],
          "expected the checkpoint to record the one batch that failed again")

    healthy = Recorder()
    result, third = run_daemon(h, "resend", healthy, ["--checkpoint", checkpoint])
    healthy.close()
    check(result.rc == 0, f"the last rerun exited {result.rc}:\n{result.stderr[-2000:]}")
    check(third["generated"] == third["acked"] == second["failed"] == len(healthy.hashes),
          f"the last rerun must send exactly the one batch that failed again: {third}, the receiver took "
          f"{len(healthy.hashes)}")
    union = sorted(faulty.hashes + again.hashes + healthy.hashes)
    missing = len(set(reference) - set(union))
    check(union == reference, f"the runs' accepted events differ from a clean run's: {len(union)} vs "
                              f"{len(reference)}, {missing} missing")
    with open(checkpoint) as f:
        check("complete yes" in f.read(), "the checkpoint is complete after the last rerun")

if __name__ == "__main__":
    harness.main(test)
