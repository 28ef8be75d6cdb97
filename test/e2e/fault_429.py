#!/usr/bin/env python3
"""e2e.fault_429: 429 on every request for 3 s, with X-RateLimit-Reset one
second ahead (supervent-sink's `status=429`), then a healthy sink. superventd
waits until the reset instead of hammering the sink: retried by time
(network.retry_for) with a wait of about a second before each attempt, a 3 s
rate limit fails no batch at all; the sink sees few 429s per batch; memory stays flat;
nothing is counted twice; the rate recovers."""
# Seen without the reset honoured (retrying after the 100 ms batch backoff):
# the fifth retry comes within ~3 s and batches fail as rate_limited.

import harness
from harness import check
import fault_common as fc

LIMITED_S = 3.0


def test(h):
    receiver = fc.Receiver(h)
    receiver.start_sink()
    daemon = fc.Daemon(h, receiver.url)
    daemon.warm_up()
    daemon.quiet_swap(receiver, "status=429@100%")
    limited = daemon.run_for(LIMITED_S, tag="429")
    answered_429 = receiver.sink.stats()["rejected_requests"]
    check(answered_429 > 0, "the sink answered no 429")
    check(limited["events_failed"] == 0,
          f"a {LIMITED_S} s rate limit with a 1 s reset failed batches: the daemon did not wait for the reset "
          f"({limited['events_failed_by_reason']})")
    # Waiting ~1 s per retry: each of the daemon's slots is refused at most about once per second.
    limit = limited["slots_total"] * (LIMITED_S + 2)
    check(answered_429 <= limit,
          f"{answered_429} requests refused with 429 in {LIMITED_S} s by {limited['slots_total']} slots: more "
          f"than {limit:.0f}, so the daemon retried before the reset")
    receiver.start_sink()
    summary, _ = fc.recover_and_finish(h, receiver, daemon)
    check(receiver.counted == summary["acked"],
          f"429 answers ingest nothing: counted {receiver.counted}, acked {summary['acked']}")


if __name__ == "__main__":
    harness.main(test)
