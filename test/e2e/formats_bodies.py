#!/usr/bin/env python3
"""e2e.formats_bodies: the body formats, edge path and event labels against
supervent-sink --verify, with exact counts.

- --format csv: every event arrives as a well-formed CSV record (the sink
  checks quoting and field counts) and the sink counts exactly --events;
- --format ndjson with --edge and --event-labels: every request took the edge
  path /v1/ingest/DATASET and carried X-Axiom-Event-Labels, whose JSON is the
  labels given (quotes and non-ASCII escaped);
- --format text to a file: exactly --events lines, none of them JSON;
- the combinations that make no sense are refused before anything runs;
- while a run is on, status says generated = acked + failed + dropped + in
  flight."""

import json

import harness
from harness import check

EVENTS = 30_000


def run(h, tag, args, timeout_s=90):
    daemon = h.run(f"superventd-{tag}", [h.bin("superventd"), "--events", EVENTS, "--workers", 2, "--no-pin",
                                         "--socket", h.path(f"{tag}.sock")] + args, timeout_s=timeout_s)
    check(daemon.rc == 0, f"[{tag}] superventd exited {daemon.rc}:\n{daemon.stderr}")
    summary = harness.require_summary(daemon.stderr)
    check(summary == {"generated": EVENTS, "acked": EVENTS, "failed": 0, "in_flight": 0},
          f"[{tag}] summary {summary}, expected all {EVENTS} acknowledged")
    return daemon


def refused(h, tag, args, words):
    daemon = h.run(f"refused-{tag}", [h.bin("superventd"), "--check-config"] + args, timeout_s=30)
    check(daemon.rc != 0, f"[{tag}] {args} was accepted; expected a refusal")
    for word in words:
        check(word in daemon.stderr, f"[{tag}] the refusal does not mention {word!r}:\n{daemon.stderr}")


def test(h):
    # CSV: counted record by record, every record verified.
    sink = h.start_sink(name="sink-csv", verify=True, report=True)
    run(h, "csv", ["--sink", sink.url, "--format", "csv", "--dataset", "csvdata"])
    report = sink.stop()
    h.log(f"csv sink report: {report}")
    check(report["events"] == EVENTS, f"[csv] the sink counted {report['events']} events, expected {EVENTS}")
    check(report["invalid_events"] == 0, f"[csv] the sink found {report['invalid_events']} malformed CSV records")
    check(report["rejected_requests"] == 0, f"[csv] the sink rejected {report['rejected_requests']} requests")
    check(report["datasets"].get("csvdata", {}).get("events") == EVENTS, f"[csv] dataset counts: {report['datasets']}")
    check(report["edge_requests"] == 0, f"[csv] {report['edge_requests']} requests took the edge path unasked")
    check(report["event_labels"] == {}, f"[csv] labels arrived though none were given: {report['event_labels']}")

    # NDJSON by the edge path, with labels that need escaping.
    labels = {"env": "e2e", "team": 'say "hi"', "city": "Zürich"}
    labels_arg = ",".join(f"{k}={v}" for k, v in labels.items())
    sink = h.start_sink(name="sink-edge", verify=True, report=True)
    run(h, "edge", ["--sink", sink.url, "--edge", "--event-labels", labels_arg, "--dataset", "edgedata"])
    report = sink.stop()
    h.log(f"edge sink report: {report}")
    check(report["events"] == EVENTS and report["invalid_events"] == 0,
          f"[edge] the sink counted {report['events']} events ({report['invalid_events']} invalid), expected {EVENTS}")
    check(report["requests"] > 0 and report["edge_requests"] == report["requests"],
          f"[edge] {report['edge_requests']} of {report['requests']} requests took /v1/ingest/DATASET")
    check(report["datasets"].get("edgedata", {}).get("events") == EVENTS, f"[edge] dataset counts: {report['datasets']}")
    check(len(report["event_labels"]) == 1, f"[edge] expected one labels header value: {report['event_labels']}")
    header, requests = next(iter(report["event_labels"].items()))
    check(requests == report["requests"], f"[edge] {requests} of {report['requests']} requests carried the labels")
    check(header.isascii(), f"[edge] the labels header is not ASCII: {header!r}")
    check(json.loads(header) == labels, f"[edge] the labels header {header!r} does not decode to {labels}")

    # Text lines to a file: the message alone, one per event.
    path = h.path("messages.log")
    run(h, "text", ["--sink", f"file:{path}", "--format", "text"])
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    check(lines[-1] == b"", "[text] the file does not end with a line break")
    lines = lines[:-1]
    check(len(lines) == EVENTS, f"[text] {len(lines)} lines in the file, expected {EVENTS}")
    check(all(line and not line.startswith(b"{") for line in lines[:1000]),
          f"[text] lines are not bare messages: {lines[:2]}")

    # Nonsense is refused up front, naming the setting.
    refused(h, "text-http", ["--sink", "http://127.0.0.1:9", "--format", "text"], ["--format text", "file:"])
    refused(h, "json-file", ["--sink", f"file:{h.path('x.json')}", "--format", "json"], ["--format json", "ndjson"])
    refused(h, "rotate-stdout", ["--sink", "stdout:", "--rotate-bytes", "1MiB"], ["rotate", "stdout:"])
    refused(h, "labels", ["--event-labels", "_time=x"], ["--event-labels", "'_'"])
    refused(h, "batch-bytes", ["--batch-bytes", "1KiB"], ["--batch-bytes", "65536"])

    # Status during a rate-limited run: the four parts add up to generated.
    sink = h.start_sink(name="sink-status", verify=False, report=True)
    sock = h.path("status.sock")
    daemon = h.start("superventd-status", [h.bin("superventd"), "--sink", sink.url, "--events", 4000, "--rate", 2000,
                                           "--workers", 1, "--no-pin", "--socket", sock], timeout_s=60)
    harness.wait_running(h, daemon, sock)
    seen = 0
    while daemon.running() and seen < 5:
        result = h.run(f"status-{seen}", [h.bin("supervent-ctl"), "--socket", sock, "--json", "status"], timeout_s=15)
        if result.rc == 3:
            break
        check(result.rc == 0, f"supervent-ctl status exited {result.rc}: {result.stderr}")
        s = result.json()
        parts = s["events_acked"] + s["events_rejected"] + s["events_dropped"] + s["events_in_flight"]
        check(parts == s["events_generated"], f"acked + failed + dropped + in flight = {parts} != generated in {s}")
        check(s["events_rejected"] + s["events_dropped"] == s["events_failed"], f"failed does not split: {s}")
        check(isinstance(s.get("events_dropped_by_reason"), dict), f"no events_dropped_by_reason in {s}")
        seen += 1
    check(seen > 0, "no status answered during the run")
    table = h.run("status-table", [h.bin("supervent-ctl"), "--socket", sock, "status"], timeout_s=15)
    if table.rc == 0:
        check("dropped" in table.stdout and "in flight" in table.stdout,
              f"the status table does not show dropped and in flight:\n{table.stdout}")
    check(daemon.wait(timeout_s=60) == 0, "the rate-limited run did not end cleanly")
    sink.stop()


if __name__ == "__main__":
    harness.main(test)
