#!/usr/bin/env python3
"""e2e.live_stop_dependents (issue 18, item 1): a live run with a dependency
chain (web -> app -> db, each hop 200..400 ms later) that ends, by --duration
or by SIGTERM, still sends every dependent its roots caused: every web
request id has its app and its db event in the output, and the summary says
generated == acknowledged. Root timestamps of the one worker strictly
increase."""

import json
import signal
import time

import harness
from harness import check

SCENARIO = """
sources:
  web:
    description: "web"
    attributes: {code: {type: choice, values: [200, 404]}}
    event_types:
      - {type: access, format: "GET / {code}", create_from_scratch: true}
  app:
    description: "app"
    attributes: {level: {type: choice, values: [INFO]}}
    event_types:
      - {type: call, format: "{level} handled", create_from_scratch: false}
  db:
    description: "db"
    attributes: {table: {type: choice, values: [users]}}
    event_types:
      - {type: query, format: "SELECT from {table}", create_from_scratch: false}
dependencies:
  - trigger: {source: web, event_type: access}
    action: {source: app, event_type: call, delay: {distribution: uniform, min: 200ms, max: 400ms}}
  - trigger: {source: app, event_type: call}
    action: {source: db, event_type: query, delay: {distribution: uniform, min: 200ms, max: 400ms}}
"""


def check_chains(h, out, tag):
    by_id = {}
    root_times = []
    with open(out) as f:
        for line in f:
            event = json.loads(line)
            rid = event["attributes"]["request_id"]
            by_id.setdefault(rid, set()).add(event["source"])
            if event["source"] == "web":
                root_times.append(event["_time"])
    roots = [rid for rid, sources in by_id.items() if "web" in sources]
    broken = [rid for rid in roots if by_id[rid] != {"web", "app", "db"}]
    h.log(f"[{tag}] {len(roots)} roots, {len(broken)} without their app and db events")
    check(len(roots) >= 20, f"[{tag}] only {len(roots)} roots: the run tested little")
    check(not broken, f"[{tag}] {len(broken)} of {len(roots)} roots lack a dependent, e.g. {broken[:3]}")
    orphans = [rid for rid, sources in by_id.items() if "web" not in sources]
    check(not orphans, f"[{tag}] {len(orphans)} dependents without their root")
    # RFC 3339 with nanoseconds, all in UTC: text order is time order.
    repeats = sum(1 for a, b in zip(root_times, root_times[1:]) if b <= a)
    check(repeats == 0, f"[{tag}] {repeats} root timestamps not after the one before")


def run(h, tag, stop_by_signal):
    config = h.path(f"{tag}.yaml")
    with open(config, "w") as f:
        f.write(SCENARIO)
    out = h.path(f"{tag}.ndjson")
    argv = [h.bin("superventd"), "--config", config, "--sink", f"file:{out}", "--workers", 1, "--rate", 300,
            "--seed", 5, "--socket", h.path(f"{tag}.sock")]
    if stop_by_signal:
        daemon = h.start(f"superventd-{tag}", argv, timeout_s=30)
        time.sleep(3)
        check(daemon.running(), f"[{tag}] superventd exited with {daemon.poll()} before SIGTERM")
        daemon.signal(signal.SIGTERM)
        rc = daemon.wait(timeout_s=15)
        stderr = daemon.stderr()
    else:
        result = h.run(f"superventd-{tag}", argv + ["--duration", "3s"], timeout_s=30)
        rc, stderr = result.rc, result.stderr
    check(rc == 0, f"[{tag}] superventd exited {rc}; stderr:\n{stderr[-3000:]}")
    summary = harness.require_summary(stderr)
    check(summary["generated"] == summary["acked"] and summary["failed"] == 0,
          f"[{tag}] summary {summary}: expected generated == acknowledged, nothing failed")
    check_chains(h, out, tag)


def test(h):
    run(h, "duration", stop_by_signal=False)
    run(h, "sigterm", stop_by_signal=True)


if __name__ == "__main__":
    harness.main(test)
