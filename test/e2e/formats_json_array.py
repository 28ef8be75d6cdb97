#!/usr/bin/env python3
"""e2e.formats_json_array: --format json sends every batch as one JSON array
(application/json), with and without zstd, and supervent-sink --verify counts
exactly --events valid events. A body that were still NDJSON would not parse
as one JSON document, so the sink would refuse it: the counts prove the
arrays.

Register in test/e2e/CMakeLists.txt once the shard calls
net::ndjson_to_json_array for SinkPlan::body_format == json_array (and
daemon.cpp's json_array_bodies_wired is true); until then superventd refuses
--format json and this test fails."""

import harness
from harness import check

EVENTS = 25_000


def test(h):
    for tag, extra in (("plain", []), ("zstd", ["--compression", "zstd"])):
        sink = h.start_sink(name=f"sink-{tag}", verify=True, report=True)
        daemon = h.run(f"superventd-{tag}", [h.bin("superventd"), "--sink", sink.url, "--events", EVENTS,
                                             "--format", "json", "--batch-events", 3000, "--workers", 2, "--no-pin",
                                             "--socket", h.path(f"{tag}.sock")] + extra, timeout_s=90)
        check(daemon.rc == 0, f"[{tag}] superventd exited {daemon.rc}:\n{daemon.stderr}")
        summary = harness.require_summary(daemon.stderr)
        check(summary == {"generated": EVENTS, "acked": EVENTS, "failed": 0, "in_flight": 0},
              f"[{tag}] summary {summary}, expected all {EVENTS} acknowledged")
        report = sink.stop()
        h.log(f"[{tag}] sink report: {report}")
        check(report["events"] == EVENTS, f"[{tag}] the sink counted {report['events']} events, expected {EVENTS}")
        check(report["invalid_events"] == 0 and report["rejected_requests"] == 0,
              f"[{tag}] invalid events or rejected requests: {report}")
        # 25,000 events in batches of at most 3,000 over two workers: at least 10 requests.
        check(report["requests"] >= 10, f"[{tag}] only {report['requests']} requests")


if __name__ == "__main__":
    harness.main(test)
