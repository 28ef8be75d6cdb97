#!/usr/bin/env python3
"""e2e.fault_refused: superventd starts against a port that refuses every
connection (bound, not listening) and runs there for 5 s at 20,000 events/s
with `--retry-for 2s` (a sink down for longer than network.retry_for): it
keeps running, memory stays flat, batches fail with reason `connect` once
their retry time is spent (and not before), every status adds up. Then a receiver appears on
that port and the acknowledged rate reaches the target; at the end the
receiver counted exactly what was acknowledged."""

import socket

import harness
from harness import check
import fault_common as fc


def test(h):
    receiver = fc.Receiver(h)
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", receiver.port))   # refuses connects; nothing else can take the port
    daemon = fc.Daemon(h, receiver.url, extra_args=["--connect-timeout", "1s", "--retry-for", "2s"])
    daemon.rss_baseline = max(fc.rss_kib(daemon.process.pid), 1)
    early = daemon.run_for(1.0, tag="refused, within retry_for")
    check(early["events_failed"] == 0, f"batches failed before their 2 s of retry time was spent: {early}")
    refused = daemon.run_for(4.0, tag="refused")
    check(refused["events_acked"] == 0, f"acked events with nothing listening: {refused}")
    check(refused["connect_failures"] > 0, f"no connect failures counted against a refusing port: {refused}")
    check(refused["events_failed_by_reason"].get("connect", 0) > 0,
          f"after 5 s of refused connects no batch has failed with reason connect: {refused}")
    check(set(refused["events_failed_by_reason"]) == {"connect"},
          f"a refused connect must fail batches as 'connect' only: {refused['events_failed_by_reason']}")
    holder.close()
    receiver.start_sink()
    summary, _ = fc.recover_and_finish(h, receiver, daemon, seconds=5.0, tag="listening")
    check(summary['failed'] > 0, f'events failed while refused, so the exit must be 1: {summary}')


if __name__ == "__main__":
    harness.main(test)
