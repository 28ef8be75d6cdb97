#!/usr/bin/env python3
"""e2e.api_acks: Splunk HEC indexer acknowledgement (splunk+http://…?ack=true)
against api_receiver.py --ack, which numbers ackIds per channel as Splunk
does and answers them true only once "indexed" (after a delay; every few
ids much later).

1. Two workers, pipelined: every batch is acknowledged only after a poll of
   /services/collector/ack said true (acks_true == requests), each worker
   polls its own channel, not faster than ack_interval, and the receiver
   indexed exactly what superventd acknowledged.
2. The receiver stopped mid-run (losing what it had not indexed) and started
   again on the same port: nothing is lost. Every event generated is
   acknowledged, the receivers indexed at least every acknowledged event,
   the batches whose acks were lost are counted ambiguous and resent, and
   what was indexed twice is at most those batches.

3. Over HTTPS (splunk+https://, the test CA): the polls go through TLS too.

The receiver's fidelity: an event POST without a channel is refused 400 (code 10)."""

import json
import re
import time
import urllib.error
import urllib.request
import os

import harness
from harness import check
import api_common as ac
from api_restart import port_outside_ephemeral_range
import tls_common

RATE = 4_000
BATCH = 400
INTERVAL_S = 0.2


def ambiguous_of(stderr):
    match = re.search(r"([\d,]+) ambiguous", stderr)
    check(match is not None, f"no 'N ambiguous' in the summary: {stderr[-800:]}")
    return int(match.group(1).replace(",", ""))


def check_channel_required(receiver):
    request = urllib.request.Request(f"http://127.0.0.1:{receiver.port}/services/collector/event", data=b'{"event":"x"}',
                                     headers={"Authorization": f"Splunk {ac.TOKEN}"}, method="POST")
    try:
        urllib.request.urlopen(request, timeout=10)
        check(False, "an event POST without a channel was taken with acks on")
    except urllib.error.HTTPError as error:
        body = json.loads(error.read())
        check(error.code == 400 and body.get("code") == 10, f"expected 400 code 10, got {error.code} {body}")


def steady(h):
    receiver = ac.ApiReceiver(h, "splunk", "hec-acks", ["--ack", "--ack-delay", "0.3", "--ack-late-every", "4",
                                                       "--ack-late", "1.2"])
    check_channel_required(receiver)
    url = ac.sink_url("splunk", receiver.port, f"ack=true&ack_interval={int(INTERVAL_S * 1000)}ms&ack_timeout=20s")
    started = time.monotonic()
    result, summary = ac.run_daemon(h, "superventd-acks", url, ["--rate", str(RATE), "--batch-events", str(BATCH),
                                                               "--workers", "2", "--duration", "3"])
    elapsed = time.monotonic() - started
    report = receiver.stop()
    check(result.rc == 0, f"superventd exited {result.rc}: {result.stderr[-1500:]}")
    check(summary["acked"] == summary["generated"] > 0 and summary["failed"] == 0 and summary["in_flight"] == 0,
          f"{summary}")
    check(ambiguous_of(result.stderr) == 0, "no ack was late enough to be given up")
    check(report["events"] == summary["acked"],
          f"the receiver indexed {report['events']} events, superventd acknowledged {summary['acked']}")
    check(report["acks_true"] == report["requests"], f"every batch is acknowledged by one true ack: {report}")
    check(report["acks_false"] > 0, f"some polls came before their batches were indexed: {report}")
    check(report["channels"] == 2, f"each worker polls its own channel: {report}")
    # Not faster than the interval per channel (2 channels), with a margin for the first poll of each.
    most = 2 * (elapsed / INTERVAL_S + 2)
    check(0 < report["ack_polls"] <= most, f"{report['ack_polls']} polls in {elapsed:.1f} s, at most {most:.0f} expected")


def restart(h):
    args = ["--ack", "--ack-delay", "0.3", "--ack-late-every", "3", "--ack-late", "2.0"]
    first = ac.ApiReceiver(h, "splunk", "hec-acks-1", args, port=port_outside_ephemeral_range())
    port = first.port
    url = ac.sink_url("splunk", port, f"ack=true&ack_interval={int(INTERVAL_S * 1000)}ms&ack_timeout=5s")
    daemon = h.start("superventd-acks-restart",
                     [h.bin("superventd"), "--sink", url, "--token-file", ac.token_file(h), "--socket",
                      h.path("acks-restart.sock"), "--rate", str(RATE), "--batch-events", str(BATCH), "--workers", "1",
                      "--duration", "7", "--request-timeout", "3s", "--connect-timeout", "1s"], timeout_s=60)
    time.sleep(2.5)
    report = first.stop()
    stored = report["events"]
    check(report["events_received"] > stored, f"the first receiver should stop with batches not yet indexed: {report}")
    time.sleep(1.5)
    second = ac.ApiReceiver(h, "splunk", "hec-acks-2", args, port=port)
    rc = daemon.wait(timeout_s=45)
    stored += second.stop()["events"]
    stderr = daemon.stderr()
    summary = harness.require_summary(stderr)
    ambiguous = ambiguous_of(stderr)
    h.log(f"restart: {summary}, {ambiguous} ambiguous, receivers indexed {stored}")
    check(rc == 0, f"superventd exited {rc}")
    check(summary["failed"] == 0 and summary["in_flight"] == 0 and summary["acked"] == summary["generated"], f"{summary}")
    check(stored >= summary["acked"], f"lost {summary['acked'] - stored} acknowledged events")
    check(ambiguous > 0, "the batches the first receiver had not indexed were not counted ambiguous")
    check(stored - summary["acked"] <= ambiguous * BATCH,
          f"{stored - summary['acked']} events indexed twice, more than the {ambiguous} ambiguous batches hold")


def over_tls(h):
    pki = tls_common.make_pki(h)
    receiver = ac.ApiReceiver(h, "splunk", "hec-acks-tls", ["--ack", "--ack-delay", "0.2", "--tls-cert",
                                                           os.path.join(pki, "server.pem"), "--tls-key",
                                                           os.path.join(pki, "server.key")])
    url = f"splunk+https://localhost:{receiver.port}?ack=true&ack_interval=200ms"
    result, summary = ac.run_daemon(h, "superventd-acks-tls", url, ["--rate", str(RATE), "--batch-events", str(BATCH),
                                                                   "--workers", "1", "--duration", "2", "--ca-file",
                                                                   os.path.join(pki, "ca.pem")])
    report = receiver.stop()
    check(result.rc == 0, f"superventd exited {result.rc}: {result.stderr[-1500:]}")
    check(summary["acked"] == summary["generated"] > 0 and summary["failed"] == 0, f"{summary}")
    check(report["events"] == summary["acked"] and report["acks_true"] == report["requests"] and report["ack_polls"] > 0,
          f"over TLS: {report}, {summary}")


def test(h):
    steady(h)
    restart(h)
    over_tls(h)


if __name__ == "__main__":
    harness.main(test)
