#!/usr/bin/env python3
"""e2e.fault_restart: the receiver killed mid-run and restarted on the same
port, twice, while superventd sends 20,000 events/s. While it is gone the
port refuses connections. superventd keeps running, its memory stays flat,
every status adds up, the receivers together counted every acknowledged
event (and no more than ambiguous retries allow), the acknowledged rate
is back at the target within seconds of each restart, and no event fails:
batches are retried for network.retry_for (10 minutes), not 5 times."""

import harness
from harness import check
import fault_common as fc


def test(h):
    receiver = fc.Receiver(h)
    receiver.start_sink()
    daemon = fc.Daemon(h, receiver.url, extra_args=["--request-timeout", "3s", "--connect-timeout", "1s"])
    daemon.warm_up()
    for round_ in (1, 2):
        receiver.stop()                       # SIGTERM: open connections are dropped unanswered
        down = daemon.run_for(1.5, tag=f"down {round_}")
        check(down["connect_failures"] > 0 or down["events_in_flight"] > 0,
              f"[down {round_}] the daemon did not notice the receiver was gone: {down}")
        receiver.start_sink()
        daemon.run_for(4.0, tag=f"restarted {round_}")
        daemon.check_recovered(f"restarted {round_}")
    summary, final = daemon.stop()
    receiver.stop()
    check(final["connects"] >= 3, f"expected a reconnect after each restart: {final['connects']} connects")
    fc.check_delivery(h, receiver, summary, fc.ambiguous(final))
    # Brief outages: retried by time, every batch outlasts them.
    check(summary["failed"] == 0, f"batches failed during 1.5 s outages: {summary}")


if __name__ == "__main__":
    harness.main(test)
