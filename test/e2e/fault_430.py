#!/usr/bin/env python3
"""e2e.fault_430: the ingest quota runs out mid-run (the sink starts
answering 430). That is fatal by design: superventd stops sending to that
sink, says the quota is used up, accounts every event (acked before the 430,
failed with reason quota after) and exits 3 (fatal: a restart would
meet the same quota), without retrying a 430. Its
memory stays flat until then, and the sink holds exactly the acknowledged
events."""

import harness
from harness import check
import fault_common as fc


def test(h):
    receiver = fc.Receiver(h)
    receiver.start_sink()
    daemon = fc.Daemon(h, receiver.url)
    daemon.warm_up()
    receiver.start_sink("status=430@100%")

    polls = [0]

    def exited():
        if not daemon.process.running():
            return True
        rss = fc.rss_kib(daemon.process.pid)
        check(rss is None or rss - daemon.rss_baseline <= fc.RSS_GROWTH_MAX_KIB, f"RSS grew to {rss} KiB")
        polls[0] += 1
        result = h.run(f"ctl-430-{polls[0]}", [h.bin("supervent-ctl"), "--socket", daemon.socket, "--json", "status"],
                       timeout_s=15)
        if result.rc == 0:
            fc.check_accounting(result.json())
        else:  # unreachable: only because it is exiting
            check(result.rc == 3, f"supervent-ctl status exited {result.rc}: {result.stderr}")
        return False
    h.wait_for("superventd to stop on the quota", exited, timeout_s=30, interval_s=0.3)
    rc = daemon.process.wait(timeout_s=5)
    stderr = daemon.process.stderr()
    summary = harness.require_summary(stderr)
    h.log(f"superventd exited {rc}: {summary}")
    check(rc == 3, f"superventd exited {rc} after a 430, expected 3 (fatal)")
    fc.check_final(summary)
    check("430" in stderr and "quota" in stderr, f"superventd did not say the quota is used up:\n{stderr}")
    check("failed: quota" in stderr, f"the summary does not give 'quota' as the reason events failed:\n{stderr}")
    report_430 = receiver.sink.stats()
    receiver.stop()
    check(report_430["rejected_requests"] <= 4,
          f"the sink answered 430 {report_430['rejected_requests']} times: a 430 must not be retried "
          f"(at most one per slot in flight)")
    fc.check_delivery(h, receiver, summary, 0)
    check(receiver.counted == summary["acked"], f"counted {receiver.counted}, acked {summary['acked']}")


if __name__ == "__main__":
    harness.main(test)
