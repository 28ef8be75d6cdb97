#!/usr/bin/env python3
"""e2e.fault_retry_after: the sink says how long to stay away, and
superventd does (issue 13).
1. 503 with `Retry-After: 2` on every request for 5 s (a Python server on
   the port), then a healthy sink: each waiting batch is tried again about
   every 2 s rather than on its own quicker backoff, none fails, the rate
   recovers, each event is counted once.
2. A 429 storm with X-RateLimit-Reset (supervent-sink's `status=429`, a 1 s
   reset) on half the requests for 6 s: the run slows to what the sink lets
   through and loses nothing."""

import threading

import harness
from harness import check
import fault_common as fc

UNAVAILABLE_S = 5.0
RETRY_AFTER_S = 2


class RetryAfter503(fc.FaultServer):
    """Reads each request and answers 503 with Retry-After, keeping the connection."""

    def __init__(self, port):
        self.answered = 0
        super().__init__(port)

    def serve(self, conn):
        while self.read_request(conn):
            with self.lock:
                self.answered += 1
            body = b'{"message":"service unavailable: deploying"}'
            conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: %d\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (RETRY_AFTER_S, len(body), body))


def test(h):
    receiver = fc.Receiver(h)
    receiver.start_sink()
    daemon = fc.Daemon(h, receiver.url)
    daemon.warm_up()

    server = receiver.start_server(RetryAfter503)
    unavailable = daemon.run_for(UNAVAILABLE_S, tag="503 Retry-After")
    answered = server.answered
    check(answered > 0, "the 503 server answered nothing")
    check(unavailable["events_failed"] == 0, f"503s with Retry-After failed batches: {unavailable}")
    # Each slot waits about RETRY_AFTER_S between attempts: a few per slot, not dozens.
    limit = unavailable["slots_total"] * (UNAVAILABLE_S / RETRY_AFTER_S + 2)
    check(answered <= limit, f"{answered} requests answered 503 in {UNAVAILABLE_S} s by "
                             f"{unavailable['slots_total']} slots: more than {limit:.0f}, Retry-After not honoured")
    h.log(f"503 Retry-After: {answered} requests in {UNAVAILABLE_S} s (at most {limit:.0f} allowed)")
    receiver.start_sink()
    daemon.run_for(6.0, tag="healthy again")
    daemon.check_recovered("healthy again")

    daemon.quiet_swap(receiver, "status=429@50%")
    storm = daemon.run_for(6.0, tag="429 storm")
    check(storm["events_failed"] == 0, f"a 429 storm failed batches: {storm['events_failed_by_reason']}")
    refused = receiver.sink.stats()["rejected_requests"]
    check(refused > 0, "the sink answered no 429")
    receiver.start_sink()
    summary, _ = fc.recover_and_finish(h, receiver, daemon, seconds=8.0, tag="after the storm")
    check(summary["failed"] == 0, f"events failed: {summary}")


if __name__ == "__main__":
    harness.main(test)
