#!/usr/bin/env python3
"""e2e.fault_blackhole: a receiver that accepts, reads every byte and never
answers. superventd (request timeout 1 s) keeps running, generation backs
off instead of piling up batches (memory flat, generation stopped once the
batches waiting fill the pipelines), and each
request that timed out after it was fully sent is counted as ambiguous: the
receiver may have taken it. Then a real sink takes the port over; the rate
recovers and the sink counted every acknowledged event."""

import harness
from harness import check
import fault_common as fc


def test(h):
    receiver = fc.Receiver(h)
    receiver.start_sink()
    daemon = fc.Daemon(h, receiver.url, extra_args=["--request-timeout", "1s"])
    daemon.warm_up()
    hole = receiver.start_server(fc.BlackHole)
    status = daemon.run_for(5.0, tag="black hole")
    check(hole.accepted > 0 and hole.bytes_read > 0, "the daemon never sent to the black hole")
    # Generation stops once the batches waiting fill what the pipelines could
    # take at once (depth x connections, not every slot: the rest stay unpinned).
    late = [s[1] for s in daemon.samples[-6:]]
    check(all(st["shards"][0]["backpressured"] for st in late),
          f"with no answers generation should wait for the sink (backpressure): {status}")
    check(len({st["events_generated"] for st in late}) == 1,
          f"with no answers generation should stop, not pile up batches: {status}")
    check(0 < status["slots_busy"] < status["slots_total"],
          f"generation should stop at depth x connections batches waiting, before every slot is used: {status}")
    check(fc.ambiguous(status) > 0,
          f"requests fully sent to a server that never answered were retried, but none counted as ambiguous: {status}")
    receiver.start_sink()
    fc.recover_and_finish(h, receiver, daemon, tag="sink back")


if __name__ == "__main__":
    harness.main(test)
