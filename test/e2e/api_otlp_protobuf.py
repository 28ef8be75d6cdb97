#!/usr/bin/env python3
"""e2e.api_otlp_protobuf: OTLP/HTTP logs with protobuf bodies
(otlp+http://…?encoding=protobuf, Content-Type: application/x-protobuf).

api_receiver.py decodes each body with `protoc --decode` against
test/e2e/otlp_logs.proto (written from opentelemetry-proto's field numbers,
independent of the C++ writer), checks it as the OTLP JSON mapping and
answers ExportLogsServiceResponse in protobuf.

1. The same backfill (fixed seed, one worker) sent once as JSON and once as
   protobuf: every record is equal field by field (time, severity, body,
   every attribute and its type), and the counts are exact.
2. Protobuf with refusals: partial_success.rejected_log_records in the
   protobuf reply fails exactly the refused records (partial); a 503 is retried.
3. Protobuf bodies compressed with gzip and with zstd arrive whole."""

import shutil
import sys

import harness
from harness import check
import api_common as ac

BACKFILL = ["--seed", "7", "--workers", "1", "--start", "2024-03-01T00:00:00Z", "--end", "2024-03-01T06:00:00Z",
            "--events", "3000", "--batch-events", "500"]


def key(record):
    import json
    return (record["timeUnixNano"], json.dumps(record, sort_keys=True))


def send(h, tag, query, receiver_args=(), daemon_args=()):
    receiver = ac.ApiReceiver(h, "otlp", f"otlp-{tag}", ["--keep-records", *receiver_args])
    result, summary = ac.run_daemon(h, f"superventd-{tag}", ac.sink_url("otlp", receiver.port, query),
                                    [*BACKFILL, *daemon_args])
    report = receiver.stop()
    check(result.rc == (1 if summary["failed"] else 0), f"[{tag}] superventd exited {result.rc}: {result.stderr[-1500:]}")
    check(summary["in_flight"] == 0 and summary["acked"] + summary["failed"] == summary["generated"], f"[{tag}] {summary}")
    check(report["events"] == summary["acked"], f"[{tag}] the receiver stored {report['events']}, acknowledged {summary['acked']}")
    check(report["events_refused"] == summary["failed"], f"[{tag}] refused {report['events_refused']}, failed {summary['failed']}")
    return report, summary, result


def same_records(h):
    json_report, json_summary, _ = send(h, "json", "")
    pb_report, pb_summary, _ = send(h, "protobuf", "encoding=protobuf")
    check(json_report["protobuf_requests"] == 0, f"the JSON run sent protobuf: {json_report['protobuf_requests']}")
    check(pb_report["protobuf_requests"] == pb_report["requests"] > 0, f"not every request was protobuf: {pb_report}")
    check(json_summary["generated"] == pb_summary["generated"] == 3000, f"{json_summary} {pb_summary}")
    json_records = sorted(json_report["records"], key=key)
    pb_records = sorted(pb_report["records"], key=key)
    check(len(json_records) == len(pb_records) == 3000, f"{len(json_records)} JSON and {len(pb_records)} protobuf records")
    for n, (a, b) in enumerate(zip(json_records, pb_records)):
        check(a == b, f"record {n} differs:\n JSON     {a}\n protobuf {b}")
    types = {next(iter(kv["value"])) for r in pb_records for kv in r["attributes"] if kv["value"]}
    h.log(f"{len(pb_records)} records equal; attribute value types seen: {sorted(types)}")
    check({"stringValue", "intValue", "doubleValue"} <= types, f"the scenario should exercise more types: {types}")


def refusals(h):
    report, summary, result = send(h, "protobuf-partial", "encoding=protobuf", ["--reject-every", "11", "--throttle-first", "1"])
    check(summary["failed"] == 3000 // 11, f"expected {3000 // 11} records refused through partial_success: {summary}")
    check("partial" in result.stderr, f"the partial failures were not reported: {result.stderr[-1500:]}")
    check(report["requests_throttled"] == 1, f"{report}")


def compressed(h):
    for codec in ("gzip", "zstd"):
        report, summary, _ = send(h, f"protobuf-{codec}", "encoding=protobuf", daemon_args=["--compression", codec])
        check(summary["failed"] == 0, f"[{codec}] {summary}")
        check(report[f"{codec}_requests"] == report["protobuf_requests"] == report["requests"] > 0, f"[{codec}] {report}")


def test(h):
    for program in ("protoc", "zstd"):
        if shutil.which(program) is None:
            print(f"SKIP: {program} is not installed (protobuf-compiler, zstd): run scripts/install-deps.sh", flush=True)
            sys.exit(77)  # ctest SKIP_RETURN_CODE
    same_records(h)
    refusals(h)
    compressed(h)


if __name__ == "__main__":
    harness.main(test)
