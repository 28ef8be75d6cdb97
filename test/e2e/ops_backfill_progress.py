#!/usr/bin/env python3
"""e2e.ops_backfill_progress: a backfill's status carries "progress" (root
events done of all, fraction, ETA) that grows to 1.0; `supervent-ctl watch`
shows it as a bar with an ETA until the daemon exits; the metrics have
supervent_backfill_roots/_done and supervent_dependents_pending; and a
disabled source holds the backfill open (its events wait) until it is
enabled again, with every event delivered exactly once."""

import re
import time
import urllib.request

import harness
from backfill_common import two_source_backfill
from harness import check, ctl

ROOTS = 60000

SCENARIO = two_source_backfill(ROOTS, rate=25000)


def scrape(url):
    with urllib.request.urlopen(url, timeout=10) as reply:
        return reply.read().decode()


def metric(text, name):
    return sum(float(value) for value in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def test(h):
    # Slow answers keep the last batches in flight a while after the last
    # root event, so the status shows the finished backfill before the exit.
    sink = h.start_sink(verify=True, report=True, extra_args=["--faults", "delay=300ms@100%"])
    sock = h.path("ctl.sock")
    config = h.path("backfill.toml")
    with open(config, "w") as f:
        f.write(SCENARIO)
    daemon = h.start("superventd", [h.bin("superventd"), "--config", config, "--sink", sink.url, "--socket", sock,
                                    "--workers", 2, "--metrics-listen", "127.0.0.1:0"], timeout_s=100)
    status = harness.wait_running(h, daemon, sock)
    progress = status["progress"]
    check(progress is not None and progress["roots_total"] == ROOTS, f"progress of a backfill: {progress}")

    # A disabled source's events wait: the backfill cannot end without them.
    ctl(h, "ctl-disable-db", sock, ["sources", "disable", "db"])
    metrics_url = status["metrics"]
    text = scrape(metrics_url)
    check(metric(text, "supervent_backfill_roots") == ROOTS, "supervent_backfill_roots is not the roots")
    check("supervent_backfill_roots_done" in text and "supervent_dependents_pending" in text,
          "backfill gauges missing from the metrics")

    def web_done():
        s = ctl(h, f"ctl-status-{time.monotonic()}", sock, ["status"])
        return s["progress"]["roots_done"] >= ROOTS // 2 and s["progress"]["dependents_pending"] == 0
    h.wait_for("web's half of the backfill", web_done, timeout_s=30, interval_s=0.2)
    time.sleep(1.0)
    held = ctl(h, "ctl-status-held", sock, ["status"])
    check(held["state"] == "running" and held["progress"]["roots_done"] == ROOTS // 2 and
          held["progress"]["fraction"] == 0.5, f"the backfill did not wait for the disabled source: {held}")
    check(daemon.running(), "superventd ended the backfill with a disabled source's events left")
    text = scrape(metrics_url)
    check(metric(text, "supervent_backfill_roots_done") == ROOTS // 2, "supervent_backfill_roots_done")
    ctl(h, "ctl-enable-db", sock, ["sources", "enable", "db"])

    # watch: a bar and an ETA per refresh until the daemon exits.
    watch = h.start("watch", [h.bin("supervent-ctl"), "--socket", sock, "watch", "--interval", "0.25"], timeout_s=60)
    fractions = []
    while daemon.running():
        try:
            s = ctl(h, f"ctl-progress-{len(fractions)}", sock, ["status"])
        except harness.TestFailure:
            break  # the daemon exited between the check and the request
        fractions.append(s["progress"]["fraction"])
        time.sleep(0.1)
    check(daemon.wait(timeout_s=30) == 0, "the backfill did not exit 0")
    check(watch.wait(timeout_s=10) == 0, "watch did not exit 0 after the daemon")
    h.log(f"fractions seen: {fractions[:3]} ... {fractions[-3:]}")
    check(fractions == sorted(fractions), f"progress went back: {fractions}")
    check(fractions and fractions[-1] == 1.0, f"progress never reached 1.0: last {fractions[-1:]} ")
    bars = re.findall(r"progress\s+\[([#.]{40})\]\s+([\d.]+) %\s+ETA (\S+)", watch.stdout())
    check(len(bars) >= 2, f"fewer than 2 progress bars in watch's output:\n{watch.stdout()[-2000:]}")
    check(float(bars[-1][1]) == 100.0 and bars[-1][0] == "#" * 40, f"the last bar: {bars[-1]}")
    check(all(eta == "unknown" or re.fullmatch(r"\d+s|\d+m\d\ds|\d+h\d\dm\d\ds", eta) for _, _, eta in bars),
          f"ETAs: {[eta for _, _, eta in bars]}")
    check("backfill     root events" in watch.stdout(), "the status table has no backfill line")

    summary = harness.require_summary(daemon.stderr())
    check(summary["failed"] == 0 and summary["generated"] == summary["acked"], f"summary: {summary}")
    report = sink.stop()
    check(report["events"] == summary["acked"], f"sink counted {report['events']}, acked {summary['acked']}")
    check(report["datasets"]["db"]["events"] == ROOTS // 2, f"db got {report['datasets']['db']['events']} events")
    check(report["datasets"]["web"]["events"] > ROOTS // 2, "web's dependents are missing")


if __name__ == "__main__":
    harness.main(test)
