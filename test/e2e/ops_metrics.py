#!/usr/bin/env python3
"""e2e.ops_metrics: the Prometheus endpoint. Two scrapes of a running daemon
parse strictly with prometheus_client's parser (Debian's
python3-prometheus-client); the expected families are there with the right
types; every counter and histogram bucket only grows between the scrapes;
the latency histogram is cumulative with +Inf == count; the totals agree
with status after stop. A taken port fails start-up naming the setting."""

import socket
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

import harness
from harness import check, ctl

EXPECTED = {
    "supervent_events_generated": "counter",
    "supervent_events_acked": "counter",
    "supervent_events_failed": "counter",
    "supervent_bytes_sent": "counter",
    "supervent_requests": "counter",
    "supervent_requests_sent": "counter",
    "supervent_slots_busy": "gauge",
    "supervent_buffer_utilization_ratio": "gauge",
    "supervent_events_in_flight": "gauge",
    "supervent_rate_target_events_per_second": "gauge",
    "supervent_request_latency_seconds": "histogram",
    "supervent_build_info": "gauge",
    "supervent_bytes_sent_by_local_address": "counter",
}


def scrape(url):
    with urllib.request.urlopen(url, timeout=10) as reply:
        check(reply.status == 200, f"GET {url} answered {reply.status}")
        content_type = reply.headers.get("Content-Type", "")
        check(content_type.startswith("text/plain; version=0.0.4"), f"Content-Type {content_type!r}")
        text = reply.read().decode("utf-8")
    families = {}
    try:
        for family in text_string_to_metric_families(text):
            check(family.name not in families, f"family {family.name} appears twice")
            families[family.name] = family
    except ValueError as error:
        raise harness.TestFailure(f"the scrape does not parse: {error}\n{text}")
    return families


def samples(families):
    """{(sample name, sorted labels): value} over every family."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}


def total(families, family, sample=None, **labels):
    return sum(s.value for s in families[family].samples
               if (sample is None or s.name == sample) and all(s.labels.get(k) == v for k, v in labels.items()))


def test(h):
    sink = h.start_sink(verify=False, report=True)
    sock = h.path("ctl.sock")
    daemon = h.start("superventd", [h.bin("superventd"), "--sink", sink.url, "--rate", 20000, "--workers", 2,
                                    "--socket", sock, "--metrics-listen", "127.0.0.1:0",
                                    "--bind", "127.0.0.1,127.0.0.2"], timeout_s=60)
    status = harness.wait_running(h, daemon, sock)
    url = status["metrics"]
    check(url and url.startswith("http://127.0.0.1:") and url.endswith("/metrics"), f"status metrics URL {url!r}")

    time.sleep(1.0)
    first = scrape(url)
    for name, kind in EXPECTED.items():
        check(name in first, f"family {name} missing; have {sorted(first)}")
        check(first[name].type == kind, f"{name} is a {first[name].type}, expected {kind}")
    check(total(first, "supervent_events_acked") > 0, "no acked events after a second at 20000/s")
    check({s.labels["shard"] for s in first["supervent_events_generated"].samples} == {"0", "1"},
          "per-shard labels missing on supervent_events_generated_total")
    reasons = {s.labels["reason"] for s in first["supervent_events_failed"].samples}
    check({"connect", "server_error", "rejected", "drain_timeout"} <= reasons, f"failure reasons: {reasons}")
    by_address = {}
    for s in first["supervent_bytes_sent_by_local_address"].samples:
        by_address[s.labels["address"]] = by_address.get(s.labels["address"], 0) + s.value
    check(set(by_address) == {"127.0.0.1", "127.0.0.2"} and all(v > 0 for v in by_address.values()),
          f"bytes by local address with --bind 127.0.0.1,127.0.0.2: {by_address}")
    outcomes = {s.labels["outcome"] for s in first["supervent_requests"].samples}
    check(outcomes == {"acked", "retried", "failed"}, f"request outcomes: {outcomes}")

    time.sleep(1.0)
    second = scrape(url)
    before, after = samples(first), samples(second)
    for family in second.values():
        if family.type not in ("counter", "histogram"):
            continue
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            check(key in before, f"{key} appeared only in the second scrape")
            check(s.value >= before[key], f"{key} went down: {before[key]} -> {s.value}")
    check(total(second, "supervent_events_acked") > total(first, "supervent_events_acked"),
          "acked events did not grow between scrapes while running")

    # The histogram: cumulative buckets, +Inf == count, count == acked requests.
    buckets = [(s.labels["le"], s.value) for s in second["supervent_request_latency_seconds"].samples
               if s.name == "supervent_request_latency_seconds_bucket"]
    check(buckets[-1][0] == "+Inf", f"the last bucket is {buckets[-1][0]}, expected +Inf")
    bounds = [float(le) for le, _ in buckets]
    check(bounds == sorted(bounds), "bucket bounds are not increasing")
    counts = [v for _, v in buckets]
    check(counts == sorted(counts), f"bucket counts are not cumulative: {counts}")
    count = total(second, "supervent_request_latency_seconds", "supervent_request_latency_seconds_count")
    check(counts[-1] == count > 0, f"+Inf bucket {counts[-1]} != count {count}")
    latency_sum = total(second, "supervent_request_latency_seconds", "supervent_request_latency_seconds_sum")
    check(0 < latency_sum < count * 30, f"latency sum {latency_sum} s for {count} requests")

    # Paths other than /metrics.
    try:
        urllib.request.urlopen(url.replace("/metrics", "/nope"), timeout=10)
        raise harness.TestFailure("GET /nope did not fail")
    except urllib.error.HTTPError as error:
        check(error.code == 404, f"GET /nope answered {error.code}, expected 404")

    # A paused daemon's gauge says so.
    ctl(h, "ctl-pause", sock, ["pause"])
    check(total(scrape(url), "supervent_paused") == 1, "supervent_paused is not 1 while paused")
    ctl(h, "ctl-resume", sock, ["resume"])

    # After stop: the last status and the counters agree (scraped while draining is done).
    final = ctl(h, "ctl-stop", sock, ["stop"], timeout_s=60)
    check(daemon.wait(timeout_s=15) == 0, "superventd did not exit 0 after stop")
    report = sink.stop()
    check(report["events"] == final["events_acked"], f"sink {report['events']} != acked {final['events_acked']}")

    # The port is taken: start-up fails, naming the setting.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = h.run("superventd-taken", [h.bin("superventd"), "--sink", "discard:", "--events", 10,
                                            "--socket", h.path("taken.sock"), "--metrics-listen", f"127.0.0.1:{port}"],
                       timeout_s=30)
    check(result.rc != 0, "superventd started although the metrics port was taken")
    check("monitoring.metrics_listen" in result.stderr and "--metrics-listen" in result.stderr
          and "in use" in result.stderr, f"the error does not name the setting and the cause: {result.stderr!r}")


if __name__ == "__main__":
    harness.main(test)
