#!/usr/bin/env python3
"""e2e.fault_outage: a bounded backfill with zstd on the wire while the
receiver is killed and restarted on the same port, once for 1 s and once for
10 s (issue 13). Retried by time (network.retry_for, 10 minutes), no batch
fails: superventd ends by itself with exit 0, the receivers together count
every event exactly once apart from the ambiguous requests it reports, its
memory stays flat, generation waits while the slots are full, status says the
sink is unavailable with batches waiting, and the log says when the outage
began (with its cause) and when it ended. The 60 s outage is
fault_outage_long.py."""

import harness
import fault_common as fc


def test(h):
    fc.bounded_run_through_outages(h, outages_s=(1, 10), events=200_000)


if __name__ == "__main__":
    harness.main(test)
