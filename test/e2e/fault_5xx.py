#!/usr/bin/env python3
"""e2e.fault_5xx: a burst of 503 on every request (2 s), then 20 % of
requests answered 500, then a healthy sink. 5xx answers are retried with
backoff, by time (network.retry_for): no batch fails. The sink refuses them
without ingesting, so nothing may be counted twice: the sinks together hold
exactly the acknowledged events. superventd keeps running, memory stays
flat, and the rate recovers."""

import harness
from harness import check
import fault_common as fc


def test(h):
    receiver = fc.Receiver(h)
    receiver.start_sink()
    daemon = fc.Daemon(h, receiver.url)
    daemon.warm_up()
    daemon.quiet_swap(receiver, "status=503@100%")
    burst = daemon.run_for(2.0, tag="503 burst")
    check(burst["requests_retried"] > 0, f"a 503 burst caused no retry: {burst}")
    check(burst["events_failed"] == 0, f"a 2 s burst of 503s failed batches: {burst['events_failed_by_reason']}")
    # Not a quiet swap: under 503s only, batches wait for a sink that takes
    # them rather than fail. A sink answering 503 ingests nothing, so the
    # requests its stop cuts off cannot be counted twice.
    receiver.start_sink("status=500@20%")
    daemon.run_for(4.0, tag="500@20%")
    rejected = receiver.sink.stats()["rejected_requests"]
    check(rejected > 0, "the sink answered no 500 in 4 s at 20 %")
    daemon.quiet_swap(receiver)
    summary, final = fc.recover_and_finish(h, receiver, daemon)
    check(receiver.counted == summary["acked"],
          f"5xx answers ingest nothing, so the sinks must hold exactly the acknowledged events: "
          f"counted {receiver.counted}, acked {summary['acked']}")
    check(final["events_failed"] == 0, f"events failed although every 5xx is retried: {final['events_failed_by_reason']}")


if __name__ == "__main__":
    harness.main(test)
