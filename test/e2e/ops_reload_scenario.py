#!/usr/bin/env python3
"""e2e.ops_reload_scenario: a reload swaps the scenario live while traffic
flows to supervent-sink, which counts per dataset: a new source's dataset
starts receiving, a removed one stops, nothing is lost or counted twice
(sink total == acked, generated == acked + failed) and no connection is
reopened (status connects does not grow). An invalid scenario (a dependency
cycle, an unknown source) is refused and the old one keeps running.
`sources disable|enable NAME` changes which datasets receive."""

import time

import harness
from harness import check, ctl


def source(name, dataset, word):
    return (f"[sources.{name}]\ndataset = \"{dataset}\"\n"
            f"[sources.{name}.fields.n]\ntype = \"integer\"\nmin = 1\nmax = 999\n"
            f"[[sources.{name}.event_types]]\nname = \"hit\"\nmessage = \"{word} {{n}}\"\n")


HEAD = "[generation]\nrate = 8000\n[monitoring]\nlog_level = \"info\"\n"


def datasets(sink):
    return {name: counts["events"] for name, counts in sink.stats()["datasets"].items()}


def wait_growing(h, sink, dataset, what, timeout_s=10):
    start = datasets(sink).get(dataset, 0)
    h.wait_for(what, lambda: datasets(sink).get(dataset, 0) > start, timeout_s=timeout_s, interval_s=0.1)


def settled_count(h, sink, dataset, quiet_s=0.6, timeout_s=10):
    """The dataset's count once it has stopped changing for quiet_s."""
    deadline = time.monotonic() + timeout_s
    last = datasets(sink).get(dataset, 0)
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = datasets(sink).get(dataset, 0)
        if now == last:
            return now
        last = now
    raise harness.TestFailure(f"dataset {dataset} kept receiving for {timeout_s} s")


def test(h):
    sink = h.start_sink(verify=True, report=True)
    sock = h.path("ctl.sock")
    config = h.path("scenario.toml")
    with open(config, "w") as f:
        f.write(HEAD + source("alpha", "alpha", "alpha") + source("beta", "beta", "beta"))
    daemon = h.start("superventd", [h.bin("superventd"), "--config", config, "--sink", sink.url, "--socket", sock,
                                    "--workers", 2], timeout_s=100)
    status = harness.wait_running(h, daemon, sock)
    check([(s["name"], s["dataset"], s["enabled"]) for s in status["sources"]] ==
          [("alpha", "alpha", True), ("beta", "beta", True)], f"sources in status: {status['sources']}")
    check(status["progress"] is None, f"a live run has no backfill progress: {status['progress']}")
    wait_growing(h, sink, "alpha", "alpha to receive")
    wait_growing(h, sink, "beta", "beta to receive")
    connects = ctl(h, "ctl-status-before", sock, ["status"])["connects"]

    # A valid new scenario: alpha changed, beta removed, gamma added (a new
    # dataset), delta added to alpha's dataset (its route is reused).
    reloaded = h.path("reloaded.toml")
    with open(reloaded, "w") as f:
        f.write(HEAD + source("alpha", "alpha", "ALPHA") + source("gamma", "gamma", "gamma") +
                source("delta", "alpha", "delta"))
    reply = ctl(h, "ctl-reload", sock, ["reload", reloaded])
    scenario = reply["scenario"]
    check(scenario is not None and scenario["generation"] == 1, f"reload reply without the new scenario: {reply}")
    check(scenario["added"] == ["gamma", "delta"] and scenario["removed"] == ["beta"] and
          scenario["changed"] == ["alpha"] and scenario["unchanged"] == [] and scenario["datasets_added"] == ["gamma"],
          f"which sources changed: {scenario}")
    check("sources" in reply["changed"] and "sources" not in reply["restart_needed"], f"reload reply: {reply}")
    check("new scenario (generation 1" in daemon.stderr() and "removed: beta" in daemon.stderr(),
          "the daemon did not log which sources changed")
    wait_growing(h, sink, "gamma", "the new source's dataset (gamma) to receive")
    beta_final = settled_count(h, sink, "beta")
    h.log(f"beta settled at {beta_final} events")
    wait_growing(h, sink, "alpha", "alpha (alpha and delta) to keep receiving")
    status = ctl(h, "ctl-status-after", sock, ["status"])
    check([(s["name"], s["dataset"]) for s in status["sources"]] == [("alpha", "alpha"), ("gamma", "gamma"),
                                                                       ("delta", "alpha")],
          f"sources after the reload: {status['sources']}")
    check(status["scenario_generation"] == 1 and status["state"] == "running", f"status after the reload: {status}")
    check(status["connects"] == connects,
          f"the reload reconnected: connects went from {connects} to {status['connects']}")
    check(status["events_failed"] == 0, f"events failed across the reload: {status['events_failed']}")

    # Invalid scenarios: refused with the reason, nothing changes.
    for name, text, reason in (
            ("cycle", source("alpha", "alpha", "a") + source("omega", "omega", "o") +
             "[[scenario.dependencies]]\ntrigger_source = \"alpha\"\ntrigger_type = \"hit\"\n"
             "action_source = \"omega\"\naction_type = \"hit\"\n"
             "[[scenario.dependencies]]\ntrigger_source = \"omega\"\ntrigger_type = \"hit\"\n"
             "action_source = \"alpha\"\naction_type = \"hit\"\n", "dependency cycle"),
            ("unknown", source("alpha", "alpha", "a") +
             "[[scenario.dependencies]]\ntrigger_source = \"alpha\"\ntrigger_type = \"hit\"\n"
             "action_source = \"nowhere\"\naction_type = \"hit\"\n", "nowhere")):
        bad = h.path(f"{name}.toml")
        with open(bad, "w") as f:
            f.write(HEAD + text)
        reply = ctl(h, f"ctl-reload-{name}", sock, ["reload", bad], expect_rc=1)
        check(reason in reply["error"] and "nothing changed" in reply["error"], f"reload of {name}.toml: {reply}")
        after = ctl(h, f"ctl-status-{name}", sock, ["status"])
        check(after["scenario_generation"] == 1 and [s["name"] for s in after["sources"]] == ["alpha", "gamma", "delta"],
              f"a refused reload changed the scenario: {after['sources']}")
        check(after["reloads"] == 1, f"a refused reload counted: {after['reloads']}")
    wait_growing(h, sink, "gamma", "gamma to keep receiving after the refused reloads")

    # sources disable / enable: which datasets receive.
    reply = ctl(h, "ctl-sources-disable", sock, ["sources", "disable", "gamma"])
    check([s["enabled"] for s in reply["sources"]] == [True, False, True], f"disable reply: {reply}")
    gamma_off = settled_count(h, sink, "gamma")
    wait_growing(h, sink, "alpha", "alpha to keep receiving while gamma is disabled")
    check(datasets(sink).get("gamma", 0) == gamma_off, "the disabled source's dataset kept receiving")
    ctl(h, "ctl-sources-enable", sock, ["sources", "enable", "gamma"])
    wait_growing(h, sink, "gamma", "gamma to receive again once enabled")
    table = ctl(h, "ctl-sources-table", sock, ["sources"], json_out=False)
    check("gamma" in table.stdout and "delta" in table.stdout and "dataset" in table.stdout,
          f"sources table: {table.stdout!r}")
    listed = ctl(h, "ctl-sources-list", sock, ["sources"])["sources"]
    check(all(s["events_generated"] > 0 for s in listed), f"a running source generated nothing: {listed}")
    reply = ctl(h, "ctl-set-sources", sock, ["set", "sink.dataset", "x"], expect_rc=1)
    check("reload" in reply["error"], f"set of a scenario key: {reply}")

    # Everything disabled: the run stays up, paused, generating nothing.
    for name in ("alpha", "gamma", "delta"):
        ctl(h, f"ctl-off-{name}", sock, ["sources", "disable", name])
    time.sleep(0.5)
    first = ctl(h, "ctl-status-off-1", sock, ["status"])
    time.sleep(1.0)
    second = ctl(h, "ctl-status-off-2", sock, ["status"])
    check(second["state"] == "paused" and second["events_generated"] == first["events_generated"],
          f"every source disabled, yet state {second['state']}, generated {first['events_generated']} -> "
          f"{second['events_generated']}")
    for name in ("alpha", "gamma", "delta"):
        ctl(h, f"ctl-on-{name}", sock, ["sources", "enable", name])
    wait_growing(h, sink, "gamma", "generation to resume")

    final = ctl(h, "ctl-stop", sock, ["stop"], timeout_s=60)
    check(final["events_failed"] == 0 and final["events_in_flight"] == 0, f"final counts: {final}")
    check(final["events_generated"] == final["events_acked"], f"generated != acked: {final}")
    check(final["connects"] == connects, f"connections reopened during the run: {connects} -> {final['connects']}")
    check(daemon.wait(timeout_s=30) == 0, "superventd did not exit 0 after stop")
    summary = harness.require_summary(daemon.stderr())
    report = sink.stop()
    check(report["events"] == summary["acked"] == summary["generated"],
          f"the sink counted {report['events']} events, the daemon acknowledged {summary['acked']} "
          f"of {summary['generated']}")
    check(report["invalid_events"] == 0, f"{report['invalid_events']} invalid events")
    per_dataset = {name: counts["events"] for name, counts in report["datasets"].items()}
    check(set(per_dataset) == {"alpha", "beta", "gamma"} and sum(per_dataset.values()) == report["events"],
          f"per-dataset counts: {per_dataset}")
    check(per_dataset["beta"] == beta_final, f"beta received {per_dataset['beta'] - beta_final} events after removal")


if __name__ == "__main__":
    harness.main(test)
