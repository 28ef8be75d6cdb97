"""Shared by the syslog end-to-end tests: a real syslog-ng (Debian's
syslog-ng-core) started in the test's temp dir, listening on loopback for
RFC 5424 over TCP (octet counting), TLS (RFC 5425) and UDP, and RFC 3164
over TCP (newline framing), each into its own file; and a strict RFC 5424
parser for what it wrote."""

import os
import re
import shutil
import socket
import sys
import time

import harness
from harness import check

SKIP = 77  # ctest's SKIP_RETURN_CODE for these tests
SYSLOG_NG = shutil.which("syslog-ng") or "/usr/sbin/syslog-ng"

# Each line the receiver writes: what syslog-ng parsed, then the message as it came.
TEMPLATE = r'"${PROGRAM}\t${HOST}\t${MSGID}\t${.SDATA.supervent@32473.request_id}\t${RAWMSG}\n"'


def require_syslog_ng():
    if not os.access(SYSLOG_NG, os.X_OK):
        print(f"SKIP: {SYSLOG_NG} is missing (Debian package syslog-ng-core; scripts/install-deps.sh installs it)")
        sys.exit(SKIP)


class SyslogNg:
    """syslog-ng -F with its own config, persist file and control socket in the temp dir."""

    def __init__(self, h, pki, name="syslog-ng"):
        self.h = h
        self.name = name
        self.ports = {kind: harness.free_port() for kind in ("tcp", "tls", "udp", "bsd")}
        self.files = {kind: h.path(f"{name}-{kind}.log") for kind in self.ports}
        self.config = h.path(f"{name}.conf")
        self.pki = pki
        self._runs = 0
        self.process = None
        self._write_config()

    def _write_config(self):
        key = os.path.join(self.pki, "server.key")
        cert = os.path.join(self.pki, "server.pem")
        p, f = self.ports, self.files
        text = f"""@version: 3.38
options {{ keep-hostname(yes); use-dns(no); use-fqdn(no); chain-hostnames(no); log-msg-size(262144);
          stats-freq(0); flush-lines(100); time-reopen(1); }};
source s_tcp {{ syslog(ip("127.0.0.1") port({p['tcp']}) transport("tcp") flags(store-raw-message)
                log-iw-size(200000) max-connections(50)); }};
source s_tls {{ syslog(ip("127.0.0.1") port({p['tls']}) transport("tls") flags(store-raw-message)
                log-iw-size(200000) max-connections(50)
                tls(key-file("{key}") cert-file("{cert}") peer-verify(optional-untrusted))); }};
source s_udp {{ syslog(ip("127.0.0.1") port({p['udp']}) transport("udp") flags(store-raw-message)
                so-rcvbuf(8388608)); }};
source s_bsd {{ network(ip("127.0.0.1") port({p['bsd']}) transport("tcp") flags(store-raw-message)
                log-iw-size(200000) max-connections(50)); }};
destination d_tcp {{ file("{f['tcp']}" template({TEMPLATE})); }};
destination d_tls {{ file("{f['tls']}" template({TEMPLATE})); }};
destination d_udp {{ file("{f['udp']}" template({TEMPLATE})); }};
destination d_bsd {{ file("{f['bsd']}" template({TEMPLATE})); }};
log {{ source(s_tcp); destination(d_tcp); }};
log {{ source(s_tls); destination(d_tls); }};
log {{ source(s_udp); destination(d_udp); }};
log {{ source(s_bsd); destination(d_bsd); }};
"""
        with open(self.config, "w") as out:
            out.write(text)

    def start(self):
        self._runs += 1
        tag = f"{self.name}-{self._runs}"
        self.process = self.h.start(tag, [SYSLOG_NG, "-F", "--no-caps", "-f", self.config,
                                          "-R", self.h.path(f"{self.name}.persist"),
                                          "-p", self.h.path(f"{self.name}.pid"),
                                          "-c", self.h.path(f"{self.name}.ctl")], timeout_s=110)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            check(self.process.running(), f"syslog-ng exited {self.process.poll()}:\n{self.process.stderr()}")
            try:
                with socket.create_connection(("127.0.0.1", self.ports["bsd"]), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise harness.TestFailure("syslog-ng did not listen within 15 s")

    def stop(self):
        """SIGTERM: syslog-ng reads what its sockets hold, flushes and exits."""
        self.process.kill()

    def lines(self, kind):
        try:
            with open(self.files[kind], "rb") as f:
                return f.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return []

    def wait_lines(self, kind, count, timeout_s=20):
        """Waits until the file has at least `count` lines (or stops growing
        for 2 s); returns its lines."""
        deadline = time.monotonic() + timeout_s
        last, still_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            lines = self.lines(kind)
            if len(lines) >= count:
                return lines
            if len(lines) != last:
                last, still_since = len(lines), time.monotonic()
            elif time.monotonic() - still_since > 2:
                return lines
            time.sleep(0.1)
        return self.lines(kind)


# RFC 5424 §6 ABNF, as a regular expression over one SYSLOG-MSG.
PRINTUSASCII = r"[\x21-\x7e]"
_sd_name = r'[!#-<>-\\^-~]{1,32}'  # PRINTUSASCII except '=', ']', '"' (and SP is outside the range)
_param_value = r'(?:[^"\\\]]|\\.)*'
_sd_element = rf'\[{_sd_name}(?: {_sd_name}="{_param_value}")*\]'
RFC5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>(?P<version>[1-9]\d{0,2}) "
    r"(?P<timestamp>-|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})) "
    rf"(?P<hostname>-|{PRINTUSASCII}{{1,255}}) "
    rf"(?P<app>-|{PRINTUSASCII}{{1,48}}) "
    rf"(?P<procid>-|{PRINTUSASCII}{{1,128}}) "
    rf"(?P<msgid>-|{PRINTUSASCII}{{1,32}}) "
    rf"(?P<sd>-|(?:{_sd_element})+)"
    r"(?: (?P<msg>.*))?$", re.S)
_param = re.compile(rf' ({_sd_name})="({_param_value})"')


def parse_5424(raw):
    """The fields of one RFC 5424 message (params unescaped), or None."""
    match = RFC5424.match(raw)
    if match is None:
        return None
    fields = match.groupdict()
    if int(fields["pri"]) > 191:
        return None
    fields["params"] = {name: re.sub(r"\\(.)", r"\1", value) for name, value in _param.findall(fields["sd"])}
    return fields


def check_received(lines, where, expect_app="web_access_log"):
    """Every receiver line parses as RFC 5424, syslog-ng's parse agrees with
    ours, and request ids are present; returns the request ids seen."""
    ids = []
    for number, line in enumerate(lines, 1):
        parts = line.split("\t", 4)
        check(len(parts) == 5, f"{where} line {number} is not PROGRAM\\tHOST\\tMSGID\\tID\\tRAW: {line[:300]!r}")
        program, host, msgid, request_id, raw = parts
        fields = parse_5424(raw)
        check(fields is not None, f"{where} line {number} is not RFC 5424: {raw[:400]!r}")
        check(fields["app"] == expect_app == program,
              f"{where} line {number}: APP-NAME {fields['app']!r}, syslog-ng saw {program!r}, expected {expect_app!r}")
        check(fields["hostname"] == host, f"{where} line {number}: HOSTNAME {fields['hostname']!r} but syslog-ng saw {host!r}")
        check(fields["msgid"] == msgid, f"{where} line {number}: MSGID {fields['msgid']!r} but syslog-ng saw {msgid!r}")
        check(fields["params"].get("request_id") == request_id and request_id,
              f"{where} line {number}: request_id {fields['params'].get('request_id')!r}, syslog-ng saw {request_id!r}")
        check(fields["msg"], f"{where} line {number}: empty MSG")
        ids.append(request_id)
    return ids
