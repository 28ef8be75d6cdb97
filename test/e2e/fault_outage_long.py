#!/usr/bin/env python3
"""e2e.fault_outage_long: the minute-long cases of issue 13, kept out of the
sanitizer stages for time (.ci/run's sanitizer_skip):
1. a bounded backfill (zstd) whose receiver is gone for 60 s: exit 0, every
   event acknowledged, each counted once apart from ambiguous requests;
2. a receiver that accepts and reads every request but answers none for
   60 s, then a healthy one: the requests time out and are retried
   (ambiguous, counted), nothing fails, the rate recovers."""

import harness
from harness import check
import fault_common as fc


def test(h):
    fc.bounded_run_through_outages(h, outages_s=(60,), events=120_000)

    receiver = fc.Receiver(h, name="silent-case-sink")
    receiver.start_sink()
    daemon = fc.Daemon(h, receiver.url, extra_args=["--request-timeout", "20s"], timeout_s=200,
                       name="superventd-silent-case")
    daemon.warm_up()
    receiver.start_server(fc.BlackHole)
    silent = daemon.run_for(60.0, interval_s=1.0, tag="never answers")
    check(silent["events_failed"] == 0, f"events failed while the sink did not answer: {silent}")
    check(silent["requests_ambiguous"] > 0, f"requests timed out unanswered but none counted ambiguous: {silent}")
    receiver.start_sink()
    summary, _ = fc.recover_and_finish(h, receiver, daemon, seconds=12.0, tag="answers again")
    check(summary["failed"] == 0, f"events failed although the sink answered again within retry_for: {summary}")


if __name__ == "__main__":
    harness.main(test)
