#!/usr/bin/env python3
"""e2e.scenario_routing (issue 6): a scenario's sources land in their own
datasets, and a backfill ends once everything is acknowledged.

- sofi.yaml (seven sources, seven datasets) scaled by 0.001, seed 42, one
  worker, into supervent-sink --verify: superventd exits 0 by itself, its
  summary says generated == acknowledged with nothing failed or in flight,
  and the sink's per-dataset counts are exactly the per-source counts of a
  file run with the same seed and workers (each source's dataset from the
  YAML), summing to the acknowledged count; no request refused, no event
  invalid;
- config.yaml (three sources, all with dataset "supervent") and ec2.yaml (no
  dataset: the --dataset default) the same way.
"""

import collections
import os

import harness
from harness import check
import scenario_common as sc


def file_counts(h, name, tag, extra=()):
    """Events per dataset of a file run (the dataset each source names, else the default)."""
    scn = sc.Scenario(name)
    out, summary, _ = sc.run_file(h, name, f"{tag}-file", extra)
    _, events = sc.read_events(out)
    default = "supervent"
    if "--dataset" in extra:
        default = extra[list(extra).index("--dataset") + 1]
    counts = collections.Counter(scn.by_description[e["source"]].dataset or default for e in events)
    check(sum(counts.values()) == summary["acked"], f"[{tag}] file run: {len(events)} events, summary {summary}")
    return scn, counts


def sink_run(h, name, tag, extra=()):
    sink = h.start_sink(name=f"sink-{tag}", verify=True, report=True)
    result = h.run(f"superventd-{tag}", [h.bin("superventd"), "--config", os.path.join(sc.CONFIG_DIR, name),
                                         "--scale", sc.SCALES[name], "--seed", sc.SEED, "--workers", 1,
                                         "--sink", sink.url, "--socket", h.path(f"{tag}.sock")] + list(extra),
                   timeout_s=60)
    check(result.rc == 0, f"[{tag}] superventd exited {result.rc}: a backfill exits 0 once every event is "
                          f"acknowledged; stderr:\n{result.stderr[-3000:]}")
    summary = harness.require_summary(result.stderr)
    check(summary["generated"] == summary["acked"] and summary["failed"] == 0 and summary["in_flight"] == 0,
          f"[{tag}] summary {summary}: expected generated == acknowledged, 0 failed, 0 in flight")
    report = sink.stop()
    h.log(f"[{tag}] summary {summary}; sink datasets "
          f"{ {k: v['events'] for k, v in report['datasets'].items()} }")
    check(report["invalid_events"] == 0 and report["rejected_requests"] == 0,
          f"[{tag}] sink: {report['invalid_events']} invalid events, {report['rejected_requests']} rejected requests")
    check(report["events"] == summary["acked"],
          f"[{tag}] the sink counted {report['events']} events, superventd acknowledged {summary['acked']}")
    return {k: v["events"] for k, v in report["datasets"].items()}, summary


def check_routing(h, name, tag, extra=(), expect_datasets=None):
    scn, expected = file_counts(h, name, tag, extra)
    got, summary = sink_run(h, name, tag, extra)
    check(got == dict(expected),
          f"[{tag}] events per dataset at the sink {got} != per source in the file run {dict(expected)}")
    check(sum(got.values()) == summary["acked"], f"[{tag}] datasets sum to {sum(got.values())}, acked {summary['acked']}")
    if expect_datasets is not None:
        check(set(got) == set(expect_datasets), f"[{tag}] datasets {sorted(got)}, expected {sorted(expect_datasets)}")
    return got


def test(h):
    got = check_routing(h, "sofi.yaml", "sofi",
                        expect_datasets={"http", "app", "db", "ec2", "k8s", "rds", "okta"})
    # The 0.1 % chain gives mysql (dataset db) about one event here; the others
    # are a thousand roots each, app twice that (its own roots and web's children).
    check(got["http"] == 1000 and got["app"] == 2000 and all(got[d] == 1000 for d in ("ec2", "k8s", "rds", "okta")),
          f"[sofi] per dataset {got}: expected 1000 each, app 2000 (roots and order_create children)")
    check_routing(h, "config.yaml", "config", expect_datasets={"supervent"})
    check_routing(h, "ec2.yaml", "ec2", extra=("--dataset", "ec2-default"), expect_datasets={"ec2-default"})


if __name__ == "__main__":
    harness.main(test)
