#!/usr/bin/env python3
"""e2e.postgres_restart: PostgreSQL stopped (pg_ctl stop -m fast, which
aborts the COPYs in flight) and started again mid-run, twice, while
superventd sends 20,000 events/s into it. The daemon keeps running, every
status adds up, no batch fails (they are retried by time,
network.retry_for), the acknowledged rate comes back, and at the end the
table holds every acknowledged event and no more than the ambiguous
commits (a connection lost after a whole batch was sent) may have added;
exit 0."""

import time

import harness
from harness import check
import fault_common as fc
import postgres_common as pg


def test(h, server):
    daemon = fc.Daemon(h, server.url("events"), extra_args=["--request-timeout", "5s", "--connect-timeout", "2s",
                                                             "--connections", "2"])
    daemon.warm_up()
    for round_ in (1, 2):
        server.stop("fast")
        down = daemon.run_for(1.5, tag=f"down {round_}")
        check(down["connect_failures"] > 0 or down["events_in_flight"] > 0,
              f"[down {round_}] the daemon did not notice the server was gone: {down}")
        server.start()
        daemon.run_for(4.0, tag=f"restarted {round_}")
        daemon.check_recovered(f"restarted {round_}")
    summary, final = daemon.stop()
    check(summary["failed"] == 0, f"batches failed across restarts of a few seconds: {summary}")
    check(final["connects"] >= 3, f"expected reconnects after each restart: {final['connects']} connects")
    rows = int(server.psql("SELECT count(*) FROM events"))
    ambiguous = fc.ambiguous(final)
    h.log(f"table rows {rows}, acked {summary['acked']}, ambiguous commits {ambiguous}")
    check(rows >= summary["acked"], f"lost: {summary['acked']} acknowledged, {rows} rows in the table")
    check(rows <= summary["acked"] + ambiguous * fc.BATCH,
          f"counted twice: {rows} rows for {summary['acked']} acknowledged and {ambiguous} ambiguous commits")
    # The failures were said while they happened, with what the server or libpq said.
    lines = [line for line in daemon.process.stderr().splitlines() if "attempt" in line and "failed" in line]
    h.log("failure lines:\n" + "\n".join(lines[:6]))
    check(any("57P01" in line or "connection" in line or "refused" in line for line in lines),
          f"no failure line names the cause (57P01 terminating connection, connection refused): {lines[:6]}")


if __name__ == "__main__":
    pg.run_with_postgres(test)
