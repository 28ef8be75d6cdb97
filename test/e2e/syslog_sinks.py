#!/usr/bin/env python3
"""e2e.syslog_sinks: superventd sends to a real syslog-ng over
syslog+tcp:// (RFC 5424, octet counting), syslog+tls:// (RFC 5425, the
test's own CA), syslog+udp:// and syslog+tcp://?format=rfc3164. Every line
syslog-ng wrote is counted and parsed (RFC 5424 grammar, structured data,
and syslog-ng's own reading of APP-NAME, HOSTNAME, MSGID and an SD-PARAM).

TCP and TLS: received == acknowledged == generated, exactly. UDP may lose
datagrams under load, so the test counts what syslog-ng saw, prints it and
checks only 0 < received <= acknowledged. Without the test's CA, the TLS
run must stop at the certificate and fail every event."""

import os
import re

import harness
import syslog_common
import tls_common
from harness import check

EVENTS = 30_000
UDP_EVENTS = 5_000


def run_daemon(h, tag, url, events, extra=()):
    result = h.run(f"superventd-{tag}", [h.bin("superventd"), "--sink", url, "--events", events, "--workers", 2,
                                         "--socket", h.path(f"{tag}.sock"), "--retry-for", 20, *extra], timeout_s=60)
    check(result.rc == 0, f"superventd --sink {url} exited {result.rc}, expected 0:\n{result.stderr[-3000:]}")
    summary = harness.require_summary(result.stderr)
    check(summary["generated"] == events, f"{tag}: generated {summary['generated']}, expected {events}")
    check(summary["acked"] + summary["failed"] == summary["generated"] and summary["in_flight"] == 0,
          f"{tag}: accounting does not add up: {summary}")
    return summary


def check_stream(h, receiver, kind, url, extra=()):
    summary = run_daemon(h, kind, url, EVENTS, extra)
    check(summary["acked"] == EVENTS, f"{kind}: only {summary['acked']} of {EVENTS} acknowledged: {summary}")
    lines = receiver.wait_lines(kind, EVENTS)
    ids = syslog_common.check_received(lines, f"syslog-ng {kind} file")
    check(len(lines) == summary["acked"],
          f"{kind}: syslog-ng wrote {len(lines)} messages, superventd acknowledged {summary['acked']}")
    h.log(f"{kind}: {len(lines)} messages received and parsed == {summary['acked']} acknowledged; "
          f"{len(set(ids))} distinct request ids")


def check_untrusted(h, receiver):
    """Without the test's CA the certificate does not verify: superventd stops
    sending, fails the events and says why."""
    url = f"syslog+tls://localhost:{receiver.ports['tls']}"
    result = h.run("superventd-untrusted", [h.bin("superventd"), "--sink", url, "--events", 1000, "--workers", 1,
                                            "--socket", h.path("untrusted.sock")], timeout_s=60)
    check(result.rc != 0, f"superventd exited 0 though the syslog server's certificate is not trusted")
    check("certificate" in result.stderr, f"no word of the certificate in superventd's output:\n{result.stderr[-2000:]}")
    summary = harness.require_summary(result.stderr)
    check(summary["acked"] == 0 and summary["failed"] == summary["generated"],
          f"untrusted TLS: expected every generated event failed: {summary}")
    h.log(f"untrusted TLS: exit {result.rc} in {result.elapsed_s:.1f} s, {summary['failed']} events failed")


def check_udp(h, receiver):
    # A rate keeps the loss small; what matters is that every datagram that
    # arrives is one whole, valid message.
    summary = run_daemon(h, "udp", f"syslog+udp://127.0.0.1:{receiver.ports['udp']}", UDP_EVENTS, ("--rate", 20_000))
    lines = receiver.wait_lines("udp", summary["acked"], timeout_s=10)
    syslog_common.check_received(lines, "syslog-ng udp file")
    check(0 < len(lines) <= summary["acked"],
          f"udp: syslog-ng saw {len(lines)} datagrams, superventd sent {summary['acked']}")
    h.log(f"udp: syslog-ng received {len(lines)} of {summary['acked']} datagrams sent "
          f"({100.0 * len(lines) / summary['acked']:.2f} %; UDP may lose, so this is counted, not asserted)")


def check_rfc3164(h, receiver):
    url = f"syslog+tcp://127.0.0.1:{receiver.ports['bsd']}?format=rfc3164&facility=local3"
    summary = run_daemon(h, "bsd", url, 5_000)
    lines = receiver.wait_lines("bsd", summary["acked"])
    check(len(lines) == summary["acked"], f"rfc3164: syslog-ng wrote {len(lines)} lines, acknowledged {summary['acked']}")
    form = re.compile(r"^<(\d+)>[A-Z][a-z]{2} [ 1-3]\d \d{2}:\d{2}:\d{2} \S+ web_access_log: .+$")
    for number, line in enumerate(lines, 1):
        program, _host, _msgid, _id, raw = line.split("\t", 4)
        match = form.match(raw)
        check(match is not None and program == "web_access_log", f"rfc3164 line {number} malformed: {line[:300]!r}")
        check(int(match.group(1)) // 8 == 19, f"rfc3164 line {number}: facility is not local3 (19): {raw[:60]!r}")
    h.log(f"rfc3164: {len(lines)} messages received and parsed == acknowledged")


def test(h):
    syslog_common.require_syslog_ng()
    pki = tls_common.make_pki(h)
    receiver = syslog_common.SyslogNg(h, pki)
    receiver.start()
    check_stream(h, receiver, "tcp", f"syslog+tcp://127.0.0.1:{receiver.ports['tcp']}")
    check_stream(h, receiver, "tls", f"syslog+tls://localhost:{receiver.ports['tls']}",
                 ("--ca-file", os.path.join(pki, "ca.pem")))
    check_untrusted(h, receiver)
    check_udp(h, receiver)
    check_rfc3164(h, receiver)
    receiver.stop()


if __name__ == "__main__":
    harness.main(test)
