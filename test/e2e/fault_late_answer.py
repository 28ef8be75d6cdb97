#!/usr/bin/env python3
"""e2e.fault_late_answer: the case where a retry really duplicates. The sink
ingests every request but answers 30 % of them 1.5 s late, after superventd's
1 s request timeout: the daemon retries a request the sink already counted.
Such retries must be counted as ambiguous, and they bound the duplicates:
acked <= counted <= acked + ambiguous x batch. (The test also checks that
duplicates happened, or it would prove nothing.) Then a healthy sink; the
rate recovers."""

import harness
from harness import check
import fault_common as fc


def test(h):
    receiver = fc.Receiver(h)
    receiver.start_sink()
    daemon = fc.Daemon(h, receiver.url, extra_args=["--request-timeout", "1s"])
    daemon.warm_up()
    daemon.quiet_swap(receiver, "delay=1500ms@30%")
    late = daemon.run_for(4.0, tag="late answers")
    check(fc.ambiguous(late) > 0, f"requests timed out after being sent, none counted as ambiguous: {late}")
    receiver.start_sink()
    summary, _ = fc.recover_and_finish(h, receiver, daemon)
    check(receiver.counted > summary["acked"],
          f"no duplicate although the sink ingested requests it answered after the timeout: counted "
          f"{receiver.counted}, acked {summary['acked']}; the bound above was not exercised")


if __name__ == "__main__":
    harness.main(test)
