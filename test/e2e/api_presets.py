#!/usr/bin/env python3
"""e2e.api_presets: superventd sends the same scenario to each HTTP log API
preset (elasticsearch+, loki+, splunk+, otlp+, datadog+http://) by changing
--sink alone; api_receiver.py checks every request field by field against
the API's format and answers as the API does. For each: exact accounting
(generated = acknowledged + failed, the receiver stored exactly what was
acknowledged), partial failures inside a 2xx counted as failed (Elasticsearch
items with status 400, OTLP partialSuccess), whole-request refusals the
API means as "later" retried until taken (Elasticsearch items all 429, HEC
503, Datadog 429, OTLP 503), and the Loki streams' labels as asked."""

import harness
from harness import check
import api_common as ac

EVENTS = 12_000
COMMON = ["--events", str(EVENTS), "--workers", "2", "--batch-events", "500", "--seed", "7"]


def run_preset(h, api, receiver_args=(), query="", expect_refused=False, extra=(), tag=""):
    receiver = ac.ApiReceiver(h, api, f"{api}{tag}-receiver", receiver_args)
    result, summary = ac.run_daemon(h, f"superventd-{api}{tag}", ac.sink_url(api, receiver.port, query),
                                    COMMON + list(extra))
    report = receiver.stop()
    # superventd exits 1 when some events failed (README), 0 when all were acknowledged.
    check(result.rc == (1 if expect_refused else 0), f"[{api}] superventd exited {result.rc}: {result.stderr[-2000:]}")
    check(summary["generated"] == EVENTS and summary["in_flight"] == 0, f"[{api}] {summary}")
    check(summary["acked"] + summary["failed"] == summary["generated"], f"[{api}] acked + failed != generated: {summary}")
    check(report["events"] == summary["acked"],
          f"[{api}] the receiver stored {report['events']} events, superventd acknowledged {summary['acked']}")
    check(report["events_refused"] == summary["failed"],
          f"[{api}] the receiver refused {report['events_refused']} events, superventd failed {summary['failed']}")
    if expect_refused:
        check(summary["failed"] > 0, f"[{api}] the receiver refused items but nothing failed: {summary}")
        check("partial" in result.stderr, f"[{api}] the partial failures were not reported: {result.stderr[-1500:]}")
    else:
        check(summary["failed"] == 0, f"[{api}] {summary}")
    return report, summary


def check_config_refusals(h):
    """--check-config refuses a bad preset URL or option before any connection, naming it."""
    cases = [
        (["--sink", "kafka+http://127.0.0.1:9092"], "names no HTTP log API"),
        (["--sink", "loki+http://127.0.0.1?labels=attributes.status"], "must include source or event_type"),
        (["--sink", "splunk+http://127.0.0.1?channel=nope"], "GUID"),
        (["--sink", "splunk+http://127.0.0.1?ack=true&ack_interval=1ms"], "ack_interval: '1ms' is outside 10ms to 60s"),
        (["--sink", "splunk+http://127.0.0.1?ack_timeout=10s"], "ack_timeout needs ack=true"),
        (["--sink", "otlp+http://127.0.0.1?encoding=proto"], "otlp option encoding: expected json or protobuf"),
        (["--sink", "elasticsearch+http://127.0.0.1?index=x"], "takes no options"),
        (["--sink", "loki+http://127.0.0.1", "--compression", "zstd"], "does not take zstd"),
        (["--sink", "datadog+http://127.0.0.1", "--format", "csv"], "leave it at ndjson"),
    ]
    for n, (args, expected) in enumerate(cases):
        result = h.run(f"check-config-{n}", [h.bin("superventd"), "--check-config"] + args, timeout_s=20)
        check(result.rc != 0 and expected in result.stderr,
              f"--check-config {' '.join(args)}: exit {result.rc}, expected a refusal saying {expected!r}: {result.stderr}")
    ok = h.run("check-config-ok", [h.bin("superventd"), "--check-config", "--sink",
                                   "otlp+http://127.0.0.1", "--compression", "zstd"], timeout_s=20)
    check(ok.rc == 0, f"a valid otlp+ URL with zstd was refused: {ok.stderr}")


def test(h):
    check_config_refusals(h)
    # Elasticsearch: the first 2 requests have every item 429 (retried whole),
    # then every 7th item is refused with 400 (failed as partial).
    report, _ = run_preset(h, "elasticsearch", ["--throttle-first", "2", "--reject-every", "7"], expect_refused=True)
    check(report["requests_throttled"] == 2, f"expected 2 throttled bulk requests: {report}")
    sample = report["samples"][0]
    check("@timestamp" in sample and "_time" not in sample, f"a stored document: {sample}")

    # Loki: streams by source, event_type and the method attribute.
    labels = "source,event_type,attributes.method"
    report, _ = run_preset(h, "loki", ["--labels", labels], query=f"labels={labels}")
    check(all(len(s) == 3 for s in report["label_sets"]) and len(report["label_sets"]) >= 3,
          f"Loki label sets: {report['label_sets']}")
    check(any(("method", "GET") in map(tuple, s) for s in report["label_sets"]), f"no method=GET stream: {report['label_sets']}")

    # Splunk HEC: the first request answered 503 (server busy), retried.
    report, _ = run_preset(h, "splunk", ["--throttle-first", "1"])
    check(report["requests_throttled"] == 1, f"{report}")

    # OTLP: every 11th record refused through partialSuccess; the first request 503.
    report, _ = run_preset(h, "otlp", ["--reject-every", "11", "--throttle-first", "1"], expect_refused=True)
    check(report["severity_numbers"], f"no severity seen: {report}")

    # Datadog: batches capped at 1,000 entries (the receiver checks), the first answered 429.
    report, _ = run_preset(h, "datadog", ["--throttle-first", "1"])
    check(report["requests_throttled"] == 1, f"{report}")

    # gzip bodies (Content-Encoding: gzip), which every API takes: the receiver inflates and checks them.
    report, _ = run_preset(h, "splunk", extra=["--compression", "gzip"], tag="-gzip")
    check(report["gzip_requests"] == report["requests"] > 0, f"not every request was gzip: {report}")


if __name__ == "__main__":
    harness.main(test)
