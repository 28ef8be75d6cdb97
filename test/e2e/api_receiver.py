#!/usr/bin/env python3
"""A stand-in for the HTTP log APIs superventd's presets speak (Elasticsearch
_bulk, Loki push, Splunk HEC, OTLP/HTTP logs, Datadog logs intake): it checks
every request against the API's documented format field by field and answers
as the real API does, partial failures included. Standard library only.

    api_receiver.py --api elasticsearch --port-file F --report F [--port P]
                    [--token T] [--reject-every N] [--throttle-first K]

--reject-every N  every N-th event is refused inside a 2xx: Elasticsearch
                  items with status 400 (mapper_parsing_exception), OTLP
                  partialSuccess.rejectedLogRecords.
--throttle-first K  the first K requests are refused whole: Elasticsearch
                  errors:true with every item 429 (es_rejected_execution),
                  the others 429 / 503 as the API would.
--ack             Splunk HEC indexer acknowledgement as Splunk does it: a
                  channel header is required (400, code 10 without one), each
                  event POST's reply carries the channel's next ackId (from 0),
                  and POST /services/collector/ack {"acks":[…]} answers
                  {"acks":{"N":true|false}}: true once the batch is "indexed"
                  (--ack-delay seconds after it came; every --ack-late-every'th
                  ackId only after --ack-late seconds), and an id answered true
                  is forgotten. Events count as stored only once indexed: a
                  receiver stopped earlier loses the rest, as a crashed indexer.

A request that breaks the format is answered 400 and counted in
invalid_requests with the first problem in first_invalid: the tests assert
there are none. The report (JSON, written on SIGTERM and served at GET
/stats) counts events stored, refused, requests, and per API facts (Loki
streams and out-of-order entries, label sets).
"""

import argparse
import codecs
import os
import subprocess
import gzip
import json
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs
from datetime import datetime, timezone

RFC3339_NS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ANY_VALUE_KEYS = {"stringValue", "intValue", "doubleValue", "boolValue", "kvlistValue", "arrayValue", "bytesValue"}


class Invalid(Exception):
    pass


class ProtobufReply(bytes):
    """A reply body sent as application/x-protobuf."""


def need(condition, message):
    if not condition:
        raise Invalid(message)


def rfc3339_to_ns(text):
    need(isinstance(text, str) and RFC3339_NS.match(text), f"not an RFC 3339 time with nanoseconds: {text!r}")
    seconds = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return int(seconds) * 1_000_000_000 + int(text[20:29])


def check_event(event, time_key):
    """An event as the engine renders it, with its time under time_key."""
    need(isinstance(event, dict), f"an event is not an object: {event!r}"[:200])
    need(time_key in event, f"event lacks {time_key}: {sorted(event)}")
    need("_time" not in event or time_key == "_time", "event still has _time beside " + time_key)
    for key in ("source", "event_type", "message"):
        need(isinstance(event.get(key), str), f"event lacks the string {key}")
    return rfc3339_to_ns(event[time_key])


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.requests = 0
        self.events_stored = 0
        self.events_refused = 0
        self.requests_throttled = 0
        self.invalid_requests = 0
        self.gzip_requests = 0
        self.first_invalid = None
        self.event_seen = 0          # events seen in valid requests (stored or refused)
        self.label_sets = set()      # Loki
        self.stream_last_ns = {}     # Loki: label set -> last entry's ns, across requests
        self.out_of_order_across = 0  # Loki: entries older than their stream's last (across requests)
        self.severity_numbers = set()  # OTLP
        self.messages = set()        # a few messages, for spot checks
        self.lines = []              # the first few events as stored (for the tests' field checks)
        self.channels = {}           # HEC acks: channel -> {"next": id, "pending": {id: (ready_at, events)}}
        self.events_indexed_acked = 0  # HEC acks: events of ids already answered true
        self.ack_polls = 0
        self.acks_true = 0
        self.acks_false = 0
        self.events_received = 0     # HEC acks: taken by an event POST (indexed or not)
        self.protobuf_requests = 0   # OTLP: application/x-protobuf bodies
        self.zstd_requests = 0
        self.records = []            # OTLP with --keep-records: every record as its JSON mapping

    def indexed_events(self):
        """HEC acks: the events indexed by now (answered true, or ready and not yet asked)."""
        now = time.monotonic()
        ready = sum(events for ch in self.channels.values() for ready_at, events in ch["pending"].values() if ready_at <= now)
        return self.events_indexed_acked + ready

    def report(self):
        with self.lock:
            stored = self.indexed_events() if self.args.ack else self.events_stored
            return {
                "protobuf_requests": self.protobuf_requests, "zstd_requests": self.zstd_requests,
                "records": self.records,
                "ack_polls": self.ack_polls, "acks_true": self.acks_true, "acks_false": self.acks_false,
                "channels": len(self.channels), "events_received": self.events_received,
                "api": self.args.api, "requests": self.requests, "events": stored,
                "events_refused": self.events_refused, "requests_throttled": self.requests_throttled,
                "invalid_requests": self.invalid_requests, "gzip_requests": self.gzip_requests, "first_invalid": self.first_invalid,
                "events_seen": self.event_seen, "label_sets": sorted(self.label_sets),
                "out_of_order_across_requests": self.out_of_order_across,
                "severity_numbers": sorted(self.severity_numbers), "samples": self.lines[:5],
            }


# ---- per API: check the request, count its events, return (status, body) ----

def handle_elasticsearch(state, path, query, headers, body):
    need(re.match(r"^/[a-z0-9_.-]+/_bulk$", path), f"path {path!r} is not /INDEX/_bulk")
    need(headers.get("Content-Type", "").startswith("application/x-ndjson"), "Content-Type must be application/x-ndjson")
    if state.args.token:
        need(headers.get("Authorization") == f"ApiKey {state.args.token}", "Authorization must be 'ApiKey TOKEN'")
    filter_path = query.get("filter_path", [""])[0]
    need(body.endswith(b"\n"), "a _bulk body must end in a newline")
    lines = body.decode("utf-8").split("\n")[:-1]
    need(len(lines) % 2 == 0 and lines, "a _bulk body is action and document lines in pairs")
    docs = []
    for i in range(0, len(lines), 2):
        action = json.loads(lines[i])
        need(action == {"create": {}}, f"action line {lines[i]!r} is not {{\"create\":{{}}}}")
        doc = json.loads(lines[i + 1])
        check_event(doc, "@timestamp")
        docs.append(doc)
    with state.lock:
        state.requests += 1
        throttled = state.requests <= state.args.throttle_first
        if throttled:
            state.requests_throttled += 1
    items = []
    stored = 0
    for n, doc in enumerate(docs):
        if throttled:
            items.append({"create": {"_index": path.split("/")[1], "status": 429,
                                     "error": {"type": "es_rejected_execution_exception", "reason": "queue full"}}})
            continue
        with state.lock:
            state.event_seen += 1
            refuse = state.args.reject_every and state.event_seen % state.args.reject_every == 0
        if refuse:
            items.append({"create": {"_index": path.split("/")[1], "status": 400,
                                     "error": {"type": "mapper_parsing_exception", "reason": "failed to parse"}}})
        else:
            items.append({"create": {"_index": path.split("/")[1], "_id": f"id{n}", "_version": 1,
                                     "result": "created", "status": 201}})
            stored += 1
            remember(state, doc)
    errors = stored < len(docs)
    with state.lock:
        state.events_stored += stored
        state.events_refused += 0 if throttled else len(docs) - stored
    if filter_path:
        # What Elasticsearch keeps of the reply for filter_path=errors,items.*.status,items.*.error.type.
        need(set(filter_path.split(",")) >= {"errors", "items.*.status"}, f"filter_path {filter_path!r}")
        items = [{k: {"status": v["status"], **({"error": {"type": v["error"]["type"]}} if "error" in v else {})}}
                 for item in items for k, v in item.items()]
        reply = {"errors": errors, "items": items} if errors else {"errors": False}
    else:
        reply = {"took": 3, "errors": errors, "items": items}
    return 200, reply


def remember(state, event):
    with state.lock:
        if len(state.lines) < 5:
            state.lines.append(event)


def handle_loki(state, path, query, headers, body):
    need(path == "/loki/api/v1/push", f"path {path!r} is not /loki/api/v1/push")
    need(headers.get("Content-Type", "").startswith("application/json"), "Content-Type must be application/json")
    push = json.loads(body)
    need(list(push) == ["streams"] and isinstance(push["streams"], list) and push["streams"], "body is not {streams:[…]}")
    expected = state.args.labels.split(",")
    names = [p.split(".")[-1] for p in expected]
    count = 0
    batch_sets = set()
    for stream in push["streams"]:
        need(set(stream) == {"stream", "values"}, f"a stream has keys {sorted(stream)}")
        labels = stream["stream"]
        need(isinstance(labels, dict) and labels, "a stream needs at least one label")
        need(set(labels) <= set(names), f"labels {sorted(labels)} not among {names}")
        for key, value in labels.items():
            need(re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", key), f"label name {key!r}")
            need(isinstance(value, str) and value, f"label {key} value {value!r}")
        label_set = tuple(sorted(labels.items()))
        need(label_set not in batch_sets, f"label set {label_set} appears twice in one push")
        batch_sets.add(label_set)
        previous = -1
        for entry in stream["values"]:
            need(isinstance(entry, list) and len(entry) == 2, f"an entry is not [ts, line]: {entry!r}"[:200])
            ts, line = entry
            need(isinstance(ts, str) and ts.isdigit() and len(ts) >= 19, f"timestamp {ts!r} is not unix ns as a string")
            ns = int(ts)
            need(ns >= previous, f"stream {label_set}: entries out of time order ({ns} after {previous})")
            previous = ns
            need(isinstance(line, str), "the line must be a string")
            if state.args.line == "event":
                event = json.loads(line)
                need(check_event(event, "_time") == ns, f"entry ts {ns} != the event's _time {event['_time']}")
                for path_, name in zip(expected, names):
                    value = event
                    for part in path_.split("."):
                        value = value.get(part) if isinstance(value, dict) else None
                    if value is None:
                        need(name not in labels, f"label {name} without a value in the event")
                    else:
                        shown = value if isinstance(value, str) else json.dumps(value)
                        need(labels.get(name) == shown, f"label {name}={labels.get(name)!r}, the event says {shown!r}")
                remember(state, event)
            count += 1
        with state.lock:
            last = state.stream_last_ns.get(label_set, -1)
            if stream["values"] and int(stream["values"][0][0]) < last:
                state.out_of_order_across += 1
            state.stream_last_ns[label_set] = max(last, previous)
            state.label_sets.add(label_set)
    with state.lock:
        state.requests += 1
        state.events_stored += count
        state.event_seen += count
    return 204, None


def handle_splunk_ack(state, headers, body):
    """POST /services/collector/ack: which of the channel's ackIds are indexed."""
    channel = headers.get("X-Splunk-Request-Channel")
    if not channel:
        return 400, {"text": "Data channel is missing", "code": 10}
    request = json.loads(body)
    need(set(request) == {"acks"} and isinstance(request["acks"], list) and request["acks"], f"ack query {request!r}"[:200])
    need(all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in request["acks"]), "acks must be ackIds")
    need(len(set(request["acks"])) == len(request["acks"]), "an ackId asked twice in one query")
    now = time.monotonic()
    answer = {}
    with state.lock:
        state.ack_polls += 1
        known = state.channels.get(channel)
        if known is None:
            return 400, {"text": "Invalid data channel", "code": 11}
        for ack_id in request["acks"]:
            entry = known["pending"].get(ack_id)
            done = entry is not None and entry[0] <= now
            if done:
                del known["pending"][ack_id]   # Splunk forgets an ackId once it has answered true
                state.events_indexed_acked += entry[1]
                state.acks_true += 1
            else:
                state.acks_false += 1
            answer[str(ack_id)] = done
    return 200, {"acks": answer}


def handle_splunk(state, path, query, headers, body):
    if state.args.token:
        need(headers.get("Authorization") == f"Splunk {state.args.token}", "Authorization must be 'Splunk TOKEN'")
    if state.args.ack and path == "/services/collector/ack":
        return handle_splunk_ack(state, headers, body)
    need(path == "/services/collector/event", f"path {path!r} is not /services/collector/event")
    if state.args.ack and not headers.get("X-Splunk-Request-Channel"):
        return 400, {"text": "Data channel is missing", "code": 10}
    need(GUID.match(headers.get("X-Splunk-Request-Channel", "")), "X-Splunk-Request-Channel must be a GUID")
    decoder = json.JSONDecoder()
    text = body.decode("utf-8")
    pos = 0
    count = 0
    while pos < len(text):
        while pos < len(text) and text[pos] in " \r\n\t":
            pos += 1
        if pos >= len(text):
            break
        envelope, pos = decoder.raw_decode(text, pos)
        need(set(envelope) <= {"time", "host", "source", "sourcetype", "index", "event", "fields"},
             f"HEC envelope keys {sorted(envelope)}")
        need("event" in envelope, "HEC envelope without event")
        event = envelope["event"]
        ns = check_event(event, "_time")
        need(isinstance(envelope.get("time"), (int, float)), "time must be epoch seconds (a number)")
        # Epoch seconds with milliseconds: the event's time truncated to the millisecond (compared
        # in integer ms: a double near 1.8e9 s holds ms, not the difference's last ns).
        need(round(envelope["time"] * 1000) == ns // 1_000_000, f"time {envelope['time']} != the event's {event['_time']}")
        need(abs(envelope["time"] * 1000 - round(envelope["time"] * 1000)) < 1e-3, "time has more than millisecond digits")
        need(envelope.get("source") == event["source"], "source must be the event's source")
        need(envelope.get("sourcetype") == state.args.sourcetype, f"sourcetype {envelope.get('sourcetype')!r}")
        remember(state, event)
        count += 1
    need(count > 0, "no events in the body")
    with state.lock:
        state.requests += 1
        if state.requests <= state.args.throttle_first:
            state.requests_throttled += 1
            return 503, {"text": "Server is busy", "code": 9}
        state.events_stored += count
        state.event_seen += count
        if state.args.ack:
            channel = state.channels.setdefault(headers["X-Splunk-Request-Channel"], {"next": 0, "pending": {}})
            ack_id = channel["next"]
            channel["next"] += 1
            late = state.args.ack_late_every and (ack_id + 1) % state.args.ack_late_every == 0
            delay = state.args.ack_late if late else state.args.ack_delay
            channel["pending"][ack_id] = (time.monotonic() + delay, count)
            state.events_received += count
            return 200, {"text": "Success", "code": 0, "ackId": ack_id}
    return 200, {"text": "Success", "code": 0}


def check_any_value(value, depth=0):
    need(isinstance(value, dict) and len(value) <= 1 and set(value) <= ANY_VALUE_KEYS, f"AnyValue {value!r}"[:200])
    if "intValue" in value:
        need(isinstance(value["intValue"], str) and re.match(r"^-?\d+$", value["intValue"]),
             f"intValue must be a decimal string: {value['intValue']!r}")
    if "doubleValue" in value:
        need(isinstance(value["doubleValue"], (int, float)), "doubleValue must be a number")
    if "boolValue" in value:
        need(isinstance(value["boolValue"], bool), "boolValue must be a boolean")
    if "stringValue" in value:
        need(isinstance(value["stringValue"], str), "stringValue must be a string")
    if "kvlistValue" in value:
        for kv in value["kvlistValue"]["values"]:
            check_key_value(kv, depth + 1)
    if "arrayValue" in value:
        for item in value["arrayValue"]["values"]:
            check_any_value(item, depth + 1)


def check_key_value(kv, depth=0):
    need(set(kv) == {"key", "value"} and isinstance(kv["key"], str), f"KeyValue {kv!r}"[:200])
    check_any_value(kv["value"], depth)


# ---- OTLP protobuf: decoded by protoc against otlp_logs.proto, then checked as its JSON mapping ----

PROTO_DIR = os.path.dirname(os.path.abspath(__file__))
REPEATED = {"resource_logs", "scope_logs", "log_records", "attributes", "values"}
INT64_AS_STRING = {"time_unix_nano", "int_value"}   # the JSON mapping writes 64-bit integers as strings


def camel(name):
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def parse_text_format(text):
    """protoc --decode's text format as nested dicts (repeated fields as lists), keys in camelCase."""
    root = {}
    stack = [root]
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == "}":
            stack.pop()
            continue
        if line.endswith("{"):
            name = line[:-1].strip()
            child = {}
            if name in REPEATED:
                stack[-1].setdefault(camel(name), []).append(child)
            else:
                stack[-1][camel(name)] = child
            stack.append(child)
            continue
        name, _, value = line.partition(": ")
        if value.startswith('"'):
            parsed = codecs.escape_decode(value[1:-1].encode("latin-1"))[0].decode("utf-8")
        elif value in ("true", "false"):
            parsed = value == "true"
        elif name in INT64_AS_STRING:
            parsed = str(int(value))
        elif re.match(r"^-?\d+$", value):
            parsed = int(value)
        else:
            parsed = float(value)
        if name in REPEATED:
            stack[-1].setdefault(camel(name), []).append(parsed)
        else:
            stack[-1][camel(name)] = parsed
    need(len(stack) == 1, "unbalanced text format from protoc")
    return root


def protoc(message, data, decode=True):
    argv = ["protoc", f"--proto_path={PROTO_DIR}", "otlp_logs.proto",
            (f"--decode=supervent.test.otlp.{message}" if decode else f"--encode=supervent.test.otlp.{message}")]
    result = subprocess.run(argv, input=data, capture_output=True, timeout=30)
    need(result.returncode == 0, f"protoc could not {'decode' if decode else 'encode'} a {message}: "
                                 f"{result.stderr.decode(errors='replace')[:300]}")
    return result.stdout


def decode_otlp_protobuf(body):
    request = parse_text_format(protoc("ExportLogsServiceRequest", body).decode("utf-8"))
    # An empty repeated field is not on the wire; the JSON form has [] for them.
    for resource_logs in request.get("resourceLogs", []):
        resource_logs.setdefault("resource", {}).setdefault("attributes", [])
        for scope_logs in resource_logs.get("scopeLogs", []):
            for record in scope_logs.get("logRecords", []):
                record.setdefault("attributes", [])
                normalize_lists(record)
    return request


def normalize_lists(value):
    """An empty kvlist/array AnyValue has no values on the wire; JSON writes {"values":[]}."""
    if isinstance(value, dict):
        for key in ("kvlistValue", "arrayValue"):
            if key in value:
                value[key].setdefault("values", [])
        for item in value.values():
            normalize_lists(item)
    elif isinstance(value, list):
        for item in value:
            normalize_lists(item)


def handle_otlp(state, path, query, headers, body):
    need(path == "/v1/logs", f"path {path!r} is not /v1/logs")
    content_type = headers.get("Content-Type", "")
    protobuf = content_type.startswith("application/x-protobuf")
    need(protobuf or content_type.startswith("application/json"), "Content-Type must be application/json or application/x-protobuf")
    if protobuf:
        with state.lock:
            state.protobuf_requests += 1
        request = decode_otlp_protobuf(body)
    else:
        request = json.loads(body)
    need(set(request) == {"resourceLogs"}, f"top level keys {sorted(request)}")
    count = 0
    for resource_logs in request["resourceLogs"]:
        need(set(resource_logs) <= {"resource", "scopeLogs", "schemaUrl"}, f"ResourceLogs keys {sorted(resource_logs)}")
        attributes = resource_logs["resource"]["attributes"]
        for kv in attributes:
            check_key_value(kv)
        service = [kv for kv in attributes if kv["key"] == "service.name"]
        need(len(service) == 1 and "stringValue" in service[0]["value"], "resource needs service.name as a string")
        for scope_logs in resource_logs["scopeLogs"]:
            need(scope_logs["scope"]["name"] == "supervent", "scope.name must be supervent")
            need(isinstance(scope_logs["scope"].get("version"), str), "scope.version must be a string")
            for record in scope_logs["logRecords"]:
                need(set(record) <= {"timeUnixNano", "observedTimeUnixNano", "severityNumber", "severityText", "body",
                                     "attributes", "droppedAttributesCount", "flags", "traceId", "spanId"},
                     f"LogRecord keys {sorted(record)}")
                ts = record["timeUnixNano"]
                need(isinstance(ts, str) and ts.isdigit() and len(ts) >= 19, f"timeUnixNano {ts!r} must be ns as a string")
                need(isinstance(record["severityNumber"], int) and 1 <= record["severityNumber"] <= 24, "severityNumber 1-24")
                need(isinstance(record["severityText"], str) and record["severityText"], "severityText")
                check_any_value(record["body"])
                need("stringValue" in record["body"], "body must be the message string")
                for kv in record["attributes"]:
                    check_key_value(kv)
                need(any(kv["key"] == "event_type" for kv in record["attributes"]), "attributes need event_type")
                with state.lock:
                    state.severity_numbers.add(record["severityNumber"])
                    if state.args.keep_records:
                        state.records.append({**record, "service": service[0]["value"]["stringValue"]})
                remember(state, record)
                count += 1
    need(count > 0, "no log records")
    with state.lock:
        state.requests += 1
        if state.requests <= state.args.throttle_first:
            state.requests_throttled += 1
            return 503, {"code": 14, "message": "unavailable"}
        refused = 0
        if state.args.reject_every:
            for _ in range(count):
                state.event_seen += 1
                if state.event_seen % state.args.reject_every == 0:
                    refused += 1
        else:
            state.event_seen += count
        state.events_stored += count - refused
        state.events_refused += refused
    if protobuf:
        # ExportLogsServiceResponse in the request's encoding.
        text = f'partial_success {{ rejected_log_records: {refused} error_message: "some records refused" }}' if refused else ""
        return 200, ProtobufReply(protoc("ExportLogsServiceResponse", text.encode(), decode=False))
    if refused:
        return 200, {"partialSuccess": {"rejectedLogRecords": str(refused), "errorMessage": "some records refused"}}
    return 200, {}


def handle_datadog(state, path, query, headers, body):
    need(path == "/api/v2/logs", f"path {path!r} is not /api/v2/logs")
    need(headers.get("Content-Type", "").startswith("application/json"), "Content-Type must be application/json")
    if state.args.token:
        need(headers.get("DD-API-KEY") == state.args.token, "DD-API-KEY must be the token")
    need(len(body) <= 5_000_000, f"a payload of {len(body)} bytes is over Datadog's 5 MB")
    logs = json.loads(body)
    need(isinstance(logs, list) and 0 < len(logs) <= 1000, f"an array of 1-1000 logs, got {len(logs)}")
    for log in logs:
        need(log.get("ddsource") == "supervent", "ddsource must be supervent")
        need(log.get("service") == log.get("source"), "service must be the event's source")
        check_event(log, "date")
        remember(state, log)
    with state.lock:
        state.requests += 1
        if state.requests <= state.args.throttle_first:
            state.requests_throttled += 1
            return 429, {"errors": [{"status": "429", "title": "Too Many Requests"}]}
        state.events_stored += len(logs)
        state.event_seen += len(logs)
    return 202, {}


HANDLERS = {"elasticsearch": handle_elasticsearch, "loki": handle_loki, "splunk": handle_splunk,
            "otlp": handle_otlp, "datadog": handle_datadog}


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, reply):
            protobuf = isinstance(reply, ProtobufReply)
            data = b"" if reply is None else bytes(reply) if protobuf else json.dumps(reply).encode()
            self.send_response(status)
            if reply is not None:
                self.send_header("Content-Type", "application/x-protobuf" if protobuf else "application/json")
            if status != 204:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if status != 204:
                self.wfile.write(data)

        def do_GET(self):
            if self.path == "/stats":
                self.answer(200, state.report())
            else:
                self.answer(404, {"error": "not found"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            url = urlsplit(self.path)
            try:
                encoding = self.headers.get("Content-Encoding")
                need(encoding in (None, "identity", "gzip", "zstd"), f"Content-Encoding {encoding} not expected")
                if encoding == "zstd":
                    need(state.args.api == "otlp", "only the OTLP preset may send zstd")
                    inflated = subprocess.run(["zstd", "-d", "-c", "-q"], input=body, capture_output=True, timeout=30)
                    need(inflated.returncode == 0, f"zstd -d failed: {inflated.stderr[:200]!r}")
                    body = inflated.stdout
                    with state.lock:
                        state.zstd_requests += 1
                if encoding == "gzip":
                    body = gzip.decompress(body)  # a gzip member (or several) with a valid trailer
                    with state.lock:
                        state.gzip_requests += 1
                status, reply = HANDLERS[state.args.api](state, url.path, parse_qs(url.query), self.headers, body)
            except (Invalid, ValueError, KeyError, TypeError, AttributeError, OSError, EOFError) as problem:
                with state.lock:
                    state.invalid_requests += 1
                    if state.first_invalid is None:
                        state.first_invalid = f"{type(problem).__name__}: {problem}"[:500]
                status, reply = 400, {"error": str(problem)[:200]}
            self.answer(status, reply)

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True, choices=sorted(HANDLERS))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--labels", default="source,event_type")
    parser.add_argument("--line", default="event")
    parser.add_argument("--sourcetype", default="_json")
    parser.add_argument("--reject-every", type=int, default=0)
    parser.add_argument("--throttle-first", type=int, default=0)
    parser.add_argument("--keep-records", action="store_true")
    parser.add_argument("--tls-cert", default="")   # serve HTTPS with this certificate (PEM) and --tls-key
    parser.add_argument("--tls-key", default="")
    parser.add_argument("--ack", action="store_true")
    parser.add_argument("--ack-delay", type=float, default=0.3)
    parser.add_argument("--ack-late-every", type=int, default=0)
    parser.add_argument("--ack-late", type=float, default=3.0)
    args = parser.parse_args()
    state = State(args)
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state))
    if args.tls_cert:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()
    with open(args.report, "w") as f:
        json.dump(state.report(), f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
