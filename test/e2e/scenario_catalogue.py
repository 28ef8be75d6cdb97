#!/usr/bin/env python3
"""e2e.scenario_catalogue (issue 19 items 4 and 5): every built-in scenario
(`supervent-ctl sources --builtin`) runs with `superventd --scenario NAME`
and writes lines that parse in the format it claims:

- web_access, nginx_access: the Apache/nginx combined log format (a regex
  per field, the time by strptime, no body on HEAD/204/304);
- apache_error: Apache 2.4's error log (ErrorLogFormat default);
- syslog_rfc5424: the RFC 5424 §6 grammar (PRI, VERSION, TIMESTAMP, the
  header fields' lengths and characters, STRUCTURED-DATA with escapes);
- syslog_rfc3164: RFC 3164 §4.1 (PRI, "Mmm dd hh:mm:ss", host, tag[pid]:);
- k8s_container: the CRI log line (RFC 3339 ns time, stdout|stderr, F|P)
  and a JSON payload whose error level goes to stderr;
- app_json: JSON with W3C trace ids (32 hex) and span ids (16 hex);
- otel_logs: the OTLP/JSON ExportLogsServiceRequest shape, one record, its
  severityNumber in the range of its severityText, time = _time;
- cloudtrail: the CloudTrail record shape (every required key, types, ARN
  and account forms, errorCode with errorMessage, session created before);
- vpc_flow: the 14 fields of the VPC flow log v2 default format;
- payments: every chain starts at the gateway and follows the flow (fraud
  verdict, processor outcome, succeeded -> ledger), later than its parent.

Text (--format text) and NDJSON runs of one seed carry the same messages.
Golden samples: docs/scenarios.md holds 5 lines of each (payments: one whole
chain), generated here from a fixed seed and window; rerun with --update to
rewrite them after an intended change.
"""

import collections
import datetime
import ipaddress
import json
import os
import re
import sys

import harness
from harness import check

UPDATE = "--update" in sys.argv
if UPDATE:
    sys.argv.remove("--update")

DOC = os.path.join(harness.REPO_DIR, "docs", "scenarios.md")
WINDOW = ["--start", "2026-12-04T09:00:00Z", "--end", "2026-12-04T10:00:00Z"]
EVENTS = 3000
GOLDEN_LINES = 5
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def ip(text, where):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise harness.TestFailure(f"{where}: {text!r} is no IP address")


# ---- formats ------------------------------------------------------------------

COMBINED = re.compile(r'^(\S+) - (\S+) \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] '
                      r'"([A-Z]+) (/\S*) (HTTP/[12]\.[01])" (\d{3}) (\d+) "([^"]*)" "([^"]*)"$')


def check_combined(line):
    m = COMBINED.match(line)
    check(m, f"not the combined log format: {line}")
    ip(m[1], line)
    datetime.datetime.strptime(m[3], "%d/%b/%Y:%H:%M:%S %z")
    method, status, size = m[4], int(m[7]), int(m[8])
    check(method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"), f"method {method}: {line}")
    check(100 <= status <= 599, f"status {status}: {line}")
    if method == "HEAD" or status in (204, 304):
        check(size == 0, f"a body on {method} {status}: {line}")


APACHE_ERROR = re.compile(r"^\[([A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}\.\d{6} \d{4})\] "
                          r"\[(\w+):(emerg|alert|crit|error|warn|notice|info|debug|trace[1-8])\] "
                          r"\[pid (\d+):tid (\d+)\] (\(\d+\)[^:]+: )?(\[client ([0-9.]+):(\d+)\] )?(AH\d{5}): (.+)$")


def check_apache_error(line):
    m = APACHE_ERROR.match(line)
    check(m, f"not an Apache 2.4 error log line: {line}")
    datetime.datetime.strptime(m[1], "%a %b %d %H:%M:%S.%f %Y")
    if m[8]:
        ip(m[8], line)
        check(0 < int(m[9]) < 65536, f"client port: {line}")


PRINTUSASCII = re.compile(r"^[\x21-\x7e]+$")
RFC5424_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")


def parse_structured_data(text, line):
    """RFC 5424 STRUCTURED-DATA at the head of text; returns the rest."""
    if text.startswith("-"):
        return text[1:]
    check(text.startswith("["), f"STRUCTURED-DATA is neither - nor [: {line}")
    while text.startswith("["):
        i = 1
        name = re.match(r'[^= \]"]{1,32}', text[i:])
        check(name and PRINTUSASCII.match(name[0]), f"bad SD-ID: {line}")
        i += len(name[0])
        while text[i] == " ":
            i += 1
            param = re.match(r'[^= \]"]{1,32}="', text[i:])
            check(param, f"bad SD-PARAM: {line}")
            i += len(param[0])
            while text[i] != '"':
                if text[i] == "\\":
                    i += 1
                check(text[i] != "]" or text[i - 1] == "\\", f"unescaped ] in a PARAM-VALUE: {line}")
                i += 1
            i += 1
        check(text[i] == "]", f"SD-ELEMENT not closed: {line}")
        text = text[i + 1:]
    return text


def check_rfc5424(line):
    m = re.match(r"^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) ", line)
    check(m, f"no RFC 5424 header: {line}")
    pri = int(m[1])
    check(0 <= pri <= 191 and m[1] == str(pri), f"PRI {m[1]}: {line}")
    check(m[2] == "1", f"VERSION {m[2]}: {line}")
    check(RFC5424_TIME.match(m[3]), f"TIMESTAMP {m[3]}: {line}")
    datetime.datetime.fromisoformat(m[3].replace("Z", "+00:00"))
    for value, most, name in ((m[4], 255, "HOSTNAME"), (m[5], 48, "APP-NAME"), (m[6], 128, "PROCID"), (m[7], 32, "MSGID")):
        check(len(value) <= most and PRINTUSASCII.match(value), f"{name} {value!r}: {line}")
    rest = parse_structured_data(line[m.end():], line)
    check(rest == "" or rest.startswith(" "), f"no SP before MSG: {line}")
    check(pri // 8 in (0, 3, 4, 9, 10) and pri % 8 in (3, 4, 5, 6), f"facility/severity of PRI {pri}: {line}")


def check_rfc3164(line):
    m = re.match(r"^<(\d{1,3})>([A-Z][a-z]{2}) ([ 123]\d) (\d{2}):(\d{2}):(\d{2}) ([A-Za-z0-9.-]+) "
                 r"([A-Za-z0-9_/.-]{1,32})(\[\d+\])?: (.+)$", line)
    check(m, f"not an RFC 3164 line: {line}")
    check(0 <= int(m[1]) <= 191, f"PRI: {line}")
    check(m[2] in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), f"month: {line}")
    check(1 <= int(m[3]) <= 31 and (int(m[3]) >= 10 or m[3][0] == " "), f"day (space-padded): {line}")
    check(int(m[4]) < 24 and int(m[5]) < 60 and int(m[6]) < 61, f"time: {line}")


def check_cri(line):
    m = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z) (stdout|stderr) (F|P) (.*)$", line)
    check(m, f"not a CRI log line: {line}")
    datetime.datetime.fromisoformat(m[1][:26] + "+00:00")
    if m[4].startswith("{"):
        payload = json.loads(m[4])
        check((payload["level"] == "error") == (m[2] == "stderr"), f"errors and only errors on stderr: {line}")
        check(HEX32.match(payload["trace_id"]), f"trace_id: {line}")


def check_app_json(line):
    record = json.loads(line)
    for key in ("@timestamp", "level", "service", "logger", "message", "trace_id", "span_id"):
        check(key in record, f"no {key}: {line}")
    datetime.datetime.fromisoformat(record["@timestamp"].replace("Z", "+00:00"))
    check(record["level"] in ("DEBUG", "INFO", "WARN", "ERROR"), f"level: {line}")
    check(HEX32.match(record["trace_id"]) and HEX16.match(record["span_id"]), f"W3C ids: {line}")
    check(record["trace_id"] != "0" * 32 and record["span_id"] != "0" * 16, f"all-zero id: {line}")


SEVERITY = {"TRACE": range(1, 5), "DEBUG": range(5, 9), "INFO": range(9, 13), "WARN": range(13, 17),
            "ERROR": range(17, 21), "FATAL": range(21, 25)}


def check_any_value(value, line):
    check(isinstance(value, dict) and len(value) == 1, f"AnyValue with one member: {line}")
    kind, v = next(iter(value.items()))
    check(kind in ("stringValue", "intValue", "doubleValue", "boolValue"), f"AnyValue kind {kind}: {line}")
    if kind == "intValue":
        check(isinstance(v, str) and re.match(r"^-?\d+$", v), f"intValue is a decimal string: {line}")


def check_otel(line, event=None):
    request = json.loads(line)
    check(list(request) == ["resourceLogs"] and len(request["resourceLogs"]) == 1, f"one resourceLogs: {line}")
    resource_logs = request["resourceLogs"][0]
    attributes = resource_logs["resource"]["attributes"]
    for a in attributes:
        check(set(a) == {"key", "value"}, f"KeyValue: {line}")
        check_any_value(a["value"], line)
    check(any(a["key"] == "service.name" for a in attributes), f"no service.name: {line}")
    scope_logs = resource_logs["scopeLogs"]
    check(len(scope_logs) == 1 and scope_logs[0]["scope"]["name"], f"one scope with a name: {line}")
    records = scope_logs[0]["logRecords"]
    check(len(records) == 1, f"one record: {line}")
    r = records[0]
    check(re.match(r"^\d{19}$", r["timeUnixNano"]) and re.match(r"^\d{19}$", r["observedTimeUnixNano"]), f"times: {line}")
    check(r["severityNumber"] in SEVERITY[r["severityText"]], f"severityNumber out of its text's range: {line}")
    check_any_value(r["body"], line)
    for a in r["attributes"]:
        check_any_value(a["value"], line)
    check(HEX32.match(r["traceId"]) and HEX16.match(r["spanId"]) and r["flags"] in (0, 1), f"trace context: {line}")
    if event is not None:
        t = datetime.datetime.fromisoformat(event["_time"][:26] + "+00:00")
        check(int(r["timeUnixNano"]) // 1000 == int(t.timestamp() * 1e6 + 0.5) or
              abs(int(r["timeUnixNano"]) / 1e9 - t.timestamp()) < 1e-5, f"timeUnixNano != _time: {line}")


CLOUDTRAIL_KEYS = ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                   "sourceIPAddress", "userAgent", "requestParameters", "responseElements", "requestID", "eventID",
                   "readOnly", "eventType", "managementEvent", "recipientAccountId", "eventCategory")


def check_cloudtrail(line):
    record = json.loads(line)
    for key in CLOUDTRAIL_KEYS:
        check(key in record, f"no {key}: {line}")
    identity = record["userIdentity"]
    check(identity["type"] in ("AssumedRole", "IAMUser", "Root", "AWSService", "FederatedUser"), f"identity type: {line}")
    check(identity["arn"].startswith("arn:aws:") and re.match(r"^\d{12}$", identity["accountId"]), f"arn/account: {line}")
    event_time = datetime.datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
    created = identity["sessionContext"]["attributes"]["creationDate"]
    check(datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ") <= event_time, f"session created later: {line}")
    check(record["eventSource"].endswith(".amazonaws.com"), f"eventSource: {line}")
    check(re.match(r"^[a-z]{2}-[a-z]+-\d$", record["awsRegion"]), f"awsRegion: {line}")
    ip(record["sourceIPAddress"], line)
    check(UUID.match(record["eventID"]), f"eventID: {line}")
    check(isinstance(record["readOnly"], bool) and record["managementEvent"] is True, f"booleans: {line}")
    check(record["requestParameters"] is None or isinstance(record["requestParameters"], dict), f"requestParameters: {line}")
    check(("errorCode" in record) == ("errorMessage" in record), f"errorCode without errorMessage: {line}")
    check(record["eventType"] == "AwsApiCall" and re.match(r"^\d{12}$", record["recipientAccountId"]), f"type: {line}")


def check_vpc_flow(line):
    f = line.split(" ")
    check(len(f) == 14, f"not 14 fields: {line}")
    check(f[0] == "2" and re.match(r"^\d{12}$", f[1]) and re.match(r"^eni-[0-9a-f]{17}$", f[2]), f"header: {line}")
    start, end = int(f[10]), int(f[11])
    check(start <= end, f"start after end: {line}")
    if f[13] == "NODATA":
        check(f[3:10] == ["-"] * 7 and f[12] == "-", f"NODATA with traffic: {line}")
        return
    check(f[13] == "OK" and f[12] in ("ACCEPT", "REJECT"), f"action/status: {line}")
    ip(f[3], line), ip(f[4], line)
    check(all(0 <= int(p) <= 65535 for p in f[5:7]) and f[7] in ("1", "6", "17"), f"ports/protocol: {line}")
    packets, size = int(f[8]), int(f[9])
    check(packets > 0 and 20 <= size / packets <= 9001, f"bytes do not fit the packets: {line}")


def check_payments_line(line):
    record = json.loads(line)
    for key in ("ts", "service", "level", "msg", "request_id"):
        check(key in record, f"no {key}: {line}")
    datetime.datetime.fromisoformat(record["ts"].replace("Z", "+00:00"))
    check(record["level"] in ("info", "warn", "error") and UUID.match(record["request_id"]), f"level/request_id: {line}")


FORMATS = {"web_access": check_combined, "nginx_access": check_combined, "apache_error": check_apache_error,
           "syslog_rfc5424": check_rfc5424, "syslog_rfc3164": check_rfc3164, "k8s_container": check_cri,
           "app_json": check_app_json, "otel_logs": check_otel, "cloudtrail": check_cloudtrail,
           "vpc_flow": check_vpc_flow, "payments": check_payments_line}


def check_payments_chains(events):
    """Every request: gateway first, then the flow's branches, in time order."""
    chains = collections.defaultdict(list)
    for e in events:
        chains[e["attributes"]["request_id"]].append((e["_time"], e["source"], json.loads(e["message"])))
    outcomes = collections.Counter()
    for request_id, chain in chains.items():
        chain.sort(key=lambda x: x[0])
        services = [m["service"] for _, _, m in chain]
        check(services[0] == "api-gateway" and services.count("api-gateway") == 1, f"chain {request_id}: {services}")
        for _, _, m in chain:
            check(m["request_id"] == request_id, f"request_id in the line differs: {m}")
        msgs = {m["service"]: m for _, _, m in chain}
        if "fraud" in msgs and msgs["fraud"]["decision"] == "block":
            check(services == ["api-gateway", "fraud"], f"a blocked payment went on: {services}")
        if "processor" in msgs:
            outcome = msgs["processor"]["outcome"]
            outcomes[outcome] += 1
            after = [m["msg"] for _, _, m in chain if m["service"] == "payments"][1:]
            want = {"approved": "payment succeeded", "declined": "payment declined",
                    "unreachable": "payment failed: processor unavailable"}[outcome]
            check(after == [want], f"chain {request_id}: processor {outcome} then {after}")
            check(("ledger" in msgs) == (outcome == "approved"), f"ledger entry iff approved: {services}")
    check(outcomes["approved"] > 0 and len(chains) > 100, f"too few chains or approvals: {outcomes}")


def check_returning_visitors(events):
    # remote_addr is a pool of 20,000 with zipf popularity: in 3,000 requests
    # the busiest address makes 1/H(20000) ~ 9.5 % of them and fewer than 2/3 of the
    # addresses are new (independent draws would give ~3,000 distinct).
    counts = collections.Counter(e["message"].split(" ", 1)[0] for e in events)
    top = counts.most_common(1)[0][1] / len(events)
    check(len(counts) < 0.67 * len(events) and 0.06 < top < 0.13,
          f"nginx_access: {len(counts)} distinct addresses in {len(events)} requests, the busiest makes {top:.1%}")


# ---- runs -----------------------------------------------------------------------

def run(h, name, fmt, events=EVENTS):
    out = h.path(f"{name}.{fmt}")
    result = h.run(f"{name}-{fmt}", [h.bin("superventd"), "--scenario", name, "--sink", f"file:{out}", "--format", fmt,
                                      "--events", events, "--seed", 19, "--workers", 1, *WINDOW,
                                      "--socket", h.path(f"{name}-{fmt}.sock")], timeout_s=30)
    check(result.rc == 0, f"superventd --scenario {name} --format {fmt} exited {result.rc}:\n{result.stderr}")
    with open(out, encoding="utf-8") as f:
        return f.read().splitlines()


def golden_block(name, events):
    events = sorted(events, key=lambda e: e["_time"])
    if name == "payments":  # one whole chain that reaches the ledger
        by_request = collections.defaultdict(list)
        for e in events:
            by_request[e["attributes"]["request_id"]].append(e)
        chain = next(c for c in by_request.values() if any(e["source"] == "ledger service" for e in c))
        lines = [e["message"] for e in chain]
    else:
        lines = [e["message"] for e in events[:GOLDEN_LINES]]
    return "```\n" + "\n".join(lines) + "\n```"


def update_doc(h, blocks):
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    for name, block in blocks.items():
        pattern = re.compile(rf"(<!-- golden {re.escape(name)} -->\n).*?(\n<!-- /golden -->)", re.S)
        check(pattern.search(text), f"{DOC} has no '<!-- golden {name} -->' … '<!-- /golden -->' block")
        fresh = pattern.sub(lambda m: m[1] + block + m[2], text)
        if fresh != text and not UPDATE:
            raise harness.TestFailure(
                f"the golden sample of {name} in docs/scenarios.md no longer matches what superventd writes; "
                f"if generation changed on purpose, rerun with --update and review the diff. Now:\n{block}")
        text = fresh
    if UPDATE:
        with open(DOC, "w", encoding="utf-8") as f:
            f.write(text)
        h.log(f"rewrote the golden samples in {DOC}")


def test(h):
    listing = h.run("list", [h.bin("supervent-ctl"), "sources", "--builtin"], timeout_s=10)
    check(listing.rc == 0, f"sources --builtin exited {listing.rc}: {listing.stderr}")
    names = [line.split()[0] for line in listing.stdout.splitlines()]
    check(names[0] == "web_access" and set(names) == set(FORMATS), f"the catalogue lists {names}")
    check(all(len(line.split(None, 1)) == 2 for line in listing.stdout.splitlines()), "a name without description")
    copy = h.run("copy", [h.bin("supervent-ctl"), "sources", "--builtin", "vpc_flow"], timeout_s=10)
    check(copy.rc == 0 and copy.stdout.startswith("# vpc_flow: ") and "[sources.vpc_flow]" in copy.stdout, "vpc_flow's TOML")
    unknown = h.run("unknown", [h.bin("superventd"), "--scenario", "syslog", "--check-config"], timeout_s=10)
    check(unknown.rc == 2 and "unknown scenario 'syslog'" in unknown.stderr and "syslog_rfc5424" in unknown.stderr,
          f"an unknown scenario: exit {unknown.rc}, {unknown.stderr}")

    checked = h.run("check", [h.bin("superventd"), "--scenario", "payments", "--check-config"], timeout_s=10)
    check(checked.rc == 0 and "payments (built in, 6 sources)" in checked.stdout,
          f"--check-config with a built-in: exit {checked.rc}, {checked.stdout}{checked.stderr}")
    own = h.path("own.toml")
    with open(own, "w") as f:
        f.write('[sources.s.fields.a]\ntype = "uuid"\n[[sources.s.event_types]]\nname = "e"\nmessage = "{a}"\n')
    both = h.run("both", [h.bin("superventd"), "--config", own, "--scenario", "vpc_flow", "--check-config"], timeout_s=10)
    check(both.rc == 2 and "conflicts with the config file's [sources]" in both.stderr,
          f"a built-in beside [sources]: exit {both.rc}, {both.stderr}")

    blocks = {}
    for name in names:
        text = run(h, name, "text")
        events = [json.loads(line) for line in run(h, name, "ndjson")]
        check(len(events) >= EVENTS and len(text) == len(events), f"{name}: {len(text)} lines, {len(events)} events")
        check(sorted(text) == sorted(e["message"] for e in events), f"{name}: --format text is not the messages")
        for e in events:
            check(isinstance(e["attributes"], dict) and UUID.match(e["attributes"]["request_id"]), f"{name}: {e}")
            if name == "otel_logs":
                check_otel(e["message"], e)
            else:
                FORMATS[name](e["message"])
        if name == "payments":
            check_payments_chains(events)
        if name == "nginx_access":
            check_returning_visitors(events)
        blocks[name] = golden_block(name, events)
        h.log(f"{name}: {len(events)} events parse")
    update_doc(h, blocks)


harness.main(test)
