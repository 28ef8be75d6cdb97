#!/usr/bin/env python3
"""e2e.tls_sink: superventd over HTTPS to supervent-sink --tls-cert.

1. With --ca-file naming the test CA, exactly N events are generated,
   acknowledged and counted by the sink, all valid.
2. A certificate the checks must refuse stops the sink: superventd exits
   non-zero, nothing reaches the sink, and stderr names the failed check and
   what to configure. Cases: a CA nobody trusts, a certificate for another
   name, an expired certificate, and the test CA without --ca-file.
3. --tls-insecure-skip-verify delivers to the untrusted certificate, and the
   daemon says loudly that verification is off.
4. The summary and the status say how TLS went: handshakes, kernel TLS on
   or why not, ciphertext written from registered buffers."""

import os
import re

import harness
import tls_common
from harness import check

EVENTS = 100_000
BATCH = 1_000


def superventd(h, name, port, args, events=EVENTS):
    return h.run(name, [h.bin("superventd"), "--sink", f"https://localhost:{port}", "--events", events,
                        "--batch-events", BATCH, "--workers", 2, "--connections", 2,
                        "--socket", h.path(f"{name}.sock")] + list(args), timeout_s=60)


def exact_delivery(h, pki):
    sink = tls_common.start_tls_sink(h, "sink", pki, "server.pem")
    daemon = superventd(h, "superventd", sink.port, ["--ca-file", os.path.join(pki, "ca.pem")])
    summary = harness.require_summary(daemon.stderr)
    h.log(f"daemon summary: {summary}")
    check(daemon.rc == 0, f"superventd exited {daemon.rc} over HTTPS, expected 0:\n{daemon.stderr[-3000:]}")
    check(summary == {"generated": EVENTS, "acked": EVENTS, "failed": 0, "in_flight": 0},
          f"summary {summary}: expected exactly {EVENTS} generated and acknowledged")
    report = sink.stop()
    h.log(f"sink report: {report}")
    check(report["events"] == EVENTS, f"the sink counted {report['events']} events over TLS, expected {EVENTS}")
    check(report["invalid_events"] == 0, f"{report['invalid_events']} invalid events")
    check(report["requests"] == EVENTS // BATCH, f"{report['requests']} requests, expected {EVENTS // BATCH}")
    # The summary says how TLS went: handshakes, and kernel TLS on or why not.
    match = re.search(r"summary: TLS: ([\d,]+) handshakes \(([\d,]+) resumed\), kernel TLS (.+)", daemon.stderr)
    check(match is not None, f"no 'summary: TLS:' line:\n{daemon.stderr[-3000:]}")
    handshakes, resumed = (int(match.group(k).replace(",", "")) for k in (1, 2))
    kernel_tls = match.group(3)
    check(1 <= handshakes <= 4 and resumed < handshakes,
          f"{handshakes} handshakes ({resumed} resumed) for 2 workers x 2 connections and no reconnect")
    check(kernel_tls == "on" or kernel_tls.startswith("unavailable: "), f"kernel TLS {kernel_tls!r}")


def status_while_running(h, pki):
    """status shows a `tls` object over HTTPS: handshakes, kernel TLS and
    the ciphertext written from registered buffers."""
    sink = tls_common.start_tls_sink(h, "sink-status", pki, "server.pem")
    socket_path = h.path("status.sock")
    daemon = h.start("superventd-status", [h.bin("superventd"), "--sink", f"https://localhost:{sink.port}",
                                           "--ca-file", os.path.join(pki, "ca.pem"), "--rate", 20_000,
                                           "--batch-events", BATCH, "--workers", 1, "--socket", socket_path])
    harness.wait_running(h, daemon, socket_path)
    seen = {}

    def acked():
        seen["polls"] = seen.get("polls", 0) + 1
        seen["status"] = harness.ctl(h, f"ctl-status-{seen['polls']}", socket_path, ["status"])
        return seen["status"]["events_acked"] >= 5 * BATCH
    h.wait_for("acknowledged events over HTTPS", acked, timeout_s=20, interval_s=0.2)
    tls = seen["status"]["tls"]
    h.log(f"status tls: {tls}")
    check(tls is not None and tls["handshakes"] >= 1, f"status tls {tls}: expected a handshake")
    check(tls["kernel_tls"] == "on" or tls["kernel_tls"].startswith("unavailable: "), f"status tls {tls}")
    if tls["kernel_tls"] != "on":
        check(tls["ciphertext_fixed_writes"] >= 5, f"status tls {tls}: ciphertext not written from registered buffers")
    table = harness.ctl(h, "ctl-status-table", socket_path, ["status"], json_out=False).stdout
    check(re.search(r"^tls +\d+ handshakes \(\d+ resumed\) +kernel TLS ", table, re.M) is not None,
          f"supervent-ctl status shows no tls line:\n{table}")
    harness.ctl(h, "ctl-stop", socket_path, ["stop"])
    check(daemon.wait(timeout_s=30) == 0, f"superventd exited {daemon.poll()} after stop")
    sink.stop()


REFUSALS = (
    # certificate, give --ca-file, what stderr must say
    ("untrusted.pem", True, ["certificate authority", "unable to get local issuer certificate", "--ca-file"]),
    ("wrong-name.pem", True, ["host name", "hostname mismatch", "'localhost'", "DNS:wrong.example"]),
    ("expired.pem", True, ["validity period", "certificate has expired", "2020"]),
    ("server.pem", False, ["certificate authority", "system store", "--ca-file"]),
)


def refusals(h, pki):
    for number, (certificate, with_ca, expected) in enumerate(REFUSALS):
        tag = f"{certificate}{'' if with_ca else ' without --ca-file'}"
        sink = tls_common.start_tls_sink(h, f"sink-refuse{number}", pki, certificate)
        args = ["--ca-file", os.path.join(pki, "ca.pem")] if with_ca else []
        daemon = superventd(h, f"superventd-refuse{number}", sink.port, args, events=10_000)
        check(daemon.rc != 0, f"[{tag}] superventd exited 0 although the certificate must be refused")
        for text in expected:
            check(text in daemon.stderr, f"[{tag}] stderr does not say {text!r}:\n{daemon.stderr[-3000:]}")
        summary = harness.require_summary(daemon.stderr)
        check(summary["acked"] == 0 and summary["in_flight"] == 0,
              f"[{tag}] nothing may be acknowledged or left in flight: {summary}")
        report = sink.stop()
        check(report["events"] == 0 and report["requests"] == 0,
              f"[{tag}] the sink received requests through a refused certificate: {report}")
        h.log(f"[{tag}] refused: {[line for line in daemon.stderr.splitlines() if 'TLS' in line and 'summary' not in line][:1]}")


def skip_verify(h, pki):
    sink = tls_common.start_tls_sink(h, "sink-skip", pki, "untrusted.pem")
    daemon = superventd(h, "superventd-skip", sink.port, ["--tls-insecure-skip-verify"], events=20_000)
    check(daemon.rc == 0, f"superventd --tls-insecure-skip-verify exited {daemon.rc}:\n{daemon.stderr[-3000:]}")
    check("VERIFICATION IS OFF" in daemon.stderr, "no loud warning that TLS verification is off")
    report = sink.stop()
    check(report["events"] == 20_000, f"the sink counted {report['events']}, expected 20000")


def test(h):
    pki = tls_common.make_pki(h)
    exact_delivery(h, pki)
    status_while_running(h, pki)
    refusals(h, pki)
    skip_verify(h, pki)


if __name__ == "__main__":
    harness.main(test)
