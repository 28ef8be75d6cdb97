#!/usr/bin/env python3
"""e2e.grafana_dashboard: deploy/grafana/supervent.json queries only metrics
superventd exports. Every metric name in every panel's PromQL must be a
sample of a running daemon's /metrics (shipping to supervent-sink, so the
interface, source and latency series exist), or a row of the stat table
(daemon/stat_table.hpp) that only an https:// sink exports (the TLS rows).
Also: the file is valid JSON, each panel has a query, and the names in
legends and labels (shard, reason, address, interface, source, dataset, le)
are labels the metrics carry."""

import json
import os
import re
import urllib.request

import harness
from harness import check, ctl

DASHBOARD = os.path.join(harness.REPO_DIR, "deploy", "grafana", "supervent.json")
STAT_TABLE = os.path.join(harness.REPO_DIR, "daemon", "stat_table.hpp")
METRIC = re.compile(r"\b((?:supervent|process)_[a-z0-9_]+)\b")
BY_LABELS = re.compile(r"by \(([a-z_, ]+)\)")


def scrape(url):
    """Sample names of the scrape, each with the label names it was seen with."""
    with urllib.request.urlopen(url, timeout=10) as reply:
        text = reply.read().decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):  # a family declared, with no samples in this run (e.g. without --bind)
            samples.setdefault(line.split()[2], set())
        if not line or line.startswith("#"):
            continue
        match = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?", line)
        labels = set(re.findall(r'([a-zA-Z_]+)="', match.group(3) or ""))
        samples.setdefault(match.group(1), set()).update(labels)
    return samples


def stat_table_names():
    """The stat table's exported names ("supervent_x_total{...}" without labels)."""
    with open(STAT_TABLE) as f:
        return set(re.findall(r'"(supervent_[a-z0-9_]+)(?:\{[^"]*)?"', f.read()))


def test(h):
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    sink = h.start_sink(verify=False)
    sock = h.path("ctl.sock")
    h.start("superventd", [h.bin("superventd"), "--sink", sink.url, "--rate", "5000", "--workers", "2",
                           "--bind", "127.0.0.1", "--metrics-listen", "127.0.0.1:0", "--socket", sock], timeout_s=60)
    h.wait_for("the control socket", lambda: os.path.exists(sock), timeout_s=10)
    h.wait_for("acknowledged events", lambda: ctl(h, f"status-{os.urandom(4).hex()}", sock, ["status"])
               .get("events_acked", 0) > 0, timeout_s=15, interval_s=0.3)
    status = ctl(h, "ctl-status", sock, ["status"])
    samples = scrape(status["metrics"])
    table = stat_table_names()
    h.log(f"{len(samples)} sample names exported; {len(table)} in the stat table")

    unknown, checked, labels_used = [], set(), set()
    for panel in dashboard["panels"]:
        check(panel.get("targets"), f"panel {panel['title']!r} has no query")
        for target in panel["targets"]:
            for name in METRIC.findall(target["expr"]):
                checked.add(name)
                if name not in samples and name not in table:
                    unknown.append(f"{panel['title']}: {name}")
            for group in BY_LABELS.findall(target["expr"]):
                labels_used.update(label.strip() for label in group.split(","))
            labels_used.update(re.findall(r"\{\{([a-z_]+)\}\}", target.get("legendFormat", "")))
    check(not unknown, "the Grafana dashboard queries metrics superventd does not export:\n  " + "\n  ".join(unknown))
    all_labels = set().union(*samples.values()) | {"job", "le"}
    check(labels_used <= all_labels, f"labels no metric carries: {sorted(labels_used - all_labels)}")
    h.log(f"{len(checked)} metric names in {len(dashboard['panels'])} panels, all exported")
    ctl(h, "ctl-stop", sock, ["stop"], timeout_s=30)


if __name__ == "__main__":
    harness.main(test)
