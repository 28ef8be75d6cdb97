#!/usr/bin/env python3
"""e2e.ops_metrics: the Prometheus endpoint. Two scrapes of a running daemon
parse strictly with prometheus_client's parser (Debian's
python3-prometheus-client); the expected families are there with the right
types; every counter and histogram bucket only grows between the scrapes;
the latency histogram, one per outcome class, is cumulative with +Inf ==
count; process_* metrics are there; `promtool check metrics` (Debian's
prometheus, when installed) finds nothing to say; the totals agree with
status after stop. A taken port fails start-up naming the setting (exit 3,
fatal); --bind naming one address twice is refused (exit 2)."""

import shutil
import socket
import subprocess
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
    "supervent_backfill_roots": "gauge",
    "supervent_shard_cpu_seconds": "counter",
    "process_cpu_seconds": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "process_start_time_seconds": "gauge",
}
LATENCY_OUTCOMES = {"acked", "client_error", "server_error", "no_answer"}


def scrape_text(url):
    with urllib.request.urlopen(url, timeout=10) as reply:
        check(reply.status == 200, f"GET {url} answered {reply.status}")
        content_type = reply.headers.get("Content-Type", "")
        check(content_type.startswith("text/plain; version=0.0.4"), f"Content-Type {content_type!r}")
        return reply.read().decode("utf-8")


def promtool_check(h, text):
    """`promtool check metrics` (naming, types, help) when promtool is installed."""
    if shutil.which("promtool") is None:
        h.log("promtool not installed (apt-get install prometheus): skipping its check")
        return
    result = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    check(result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(),
          f"promtool check metrics: rc {result.returncode}: {result.stdout}{result.stderr}")
    h.log("promtool check metrics: nothing to say")


def scrape(url):
    text = scrape_text(url)
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
    cpu = {s.labels["shard"]: s.value for s in first["supervent_shard_cpu_seconds"].samples}
    check(set(cpu) == {"0", "1"} and all(0 < v < 5 for v in cpu.values()),
          f"worker CPU seconds after ~1 s at 20000/s: {cpu}")
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

    check_latency_histogram(second)
    check(total(second, "process_resident_memory_bytes") > 1e6, "process_resident_memory_bytes is not the RSS")
    check(abs(total(second, "process_start_time_seconds") - time.time()) < 600, "process_start_time_seconds is off")
    promtool_check(h, scrape_text(url))

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
    check(result.rc == 3, f"superventd exited {result.rc} when the metrics port was taken, expected 3 (fatal)")
    check("monitoring.metrics_listen" in result.stderr and "--metrics-listen" in result.stderr
          and "in use" in result.stderr, f"the error does not name the setting and the cause: {result.stderr!r}")

    # One address named twice (here as an address and as its interface) would export its series twice.
    twice = h.run("superventd-bind-twice", [h.bin("superventd"), "--sink", sink.url, "--events", 10,
                                            "--socket", h.path("twice.sock"), "--bind", "127.0.0.1,lo"], timeout_s=30)
    check(twice.rc == 2 and "'lo' is the same address as '127.0.0.1'" in twice.stderr,
          f"--bind 127.0.0.1,lo: exit {twice.rc}, expected 2 naming both entries: {twice.stderr!r}")


def check_latency_histogram(families):
    """Per outcome: cumulative buckets, +Inf == count; acked requests counted."""
    family = families["supervent_request_latency_seconds"]
    outcomes = {s.labels.get("outcome") for s in family.samples}
    check(outcomes == LATENCY_OUTCOMES, f"latency outcomes: {outcomes}")
    for outcome in sorted(LATENCY_OUTCOMES):
        buckets = [(s.labels["le"], s.value) for s in family.samples
                   if s.name == "supervent_request_latency_seconds_bucket" and s.labels["outcome"] == outcome]
        check(buckets[-1][0] == "+Inf", f"[{outcome}] the last bucket is {buckets[-1][0]}, expected +Inf")
        bounds = [float(le) for le, _ in buckets]
        check(bounds == sorted(bounds), f"[{outcome}] bucket bounds are not increasing")
        counts = [v for _, v in buckets]
        check(counts == sorted(counts), f"[{outcome}] bucket counts are not cumulative: {counts}")
        count = total(families, "supervent_request_latency_seconds", "supervent_request_latency_seconds_count",
                      outcome=outcome)
        check(counts[-1] == count, f"[{outcome}] +Inf bucket {counts[-1]} != count {count}")
        latency_sum = total(families, "supervent_request_latency_seconds", "supervent_request_latency_seconds_sum",
                            outcome=outcome)
        check(0 <= latency_sum <= count * 90, f"[{outcome}] latency sum {latency_sum} s for {count} requests")
    acked = total(families, "supervent_request_latency_seconds", "supervent_request_latency_seconds_count",
                  outcome="acked")
    check(acked > 0, "no acknowledged request in the latency histogram")


if __name__ == "__main__":
    harness.main(test)
