#!/usr/bin/env python3
"""supervent-ctl fleet status: one table for three real superventd.

Two live daemons and one backfill (a window) send to one supervent-sink,
each with its own --metrics-listen. Once all three are paused (nothing in
flight, counters still), `fleet status --json` must give each instance
exactly the numbers its own status gives over its control socket, totals
that are their sums, progress for the backfill only, and "-"/null for the
part and seed a daemon does not report. A fourth URL where nothing listens
is a row saying so and exit code 3, in the table, in --json and with
--file. Usage errors exit 2.
"""
import itertools

import harness
from harness import check, ctl, ctl_json

NAMES = itertools.count()


def start_daemon(h, sink, name, extra):
    socket_path = h.path(f"{name}.sock")
    daemon = h.start(name, [h.bin("superventd"), "--sink", sink.url, "--socket", socket_path, "--workers", "1",
                            "--no-pin", "--metrics-listen", "127.0.0.1:0"] + extra, timeout_s=100)
    status = harness.wait_running(h, daemon, socket_path)
    url = status["metrics"].removesuffix("/metrics")
    h.log(f"{name}: {url}")
    return daemon, socket_path, url


def fleet(h, args, expect_rc):
    result = h.run(f"fleet-{next(NAMES)}", [h.bin("supervent-ctl"), "fleet", "status"] + args, timeout_s=30)
    check(result.rc == expect_rc, f"fleet status {args}: exit {result.rc}, expected {expect_rc}; "
                                  f"stdout {result.stdout!r} stderr {result.stderr!r}")
    return result


def settle(h, socket_path):
    ctl(h, f"pause-{next(NAMES)}", socket_path, ["pause"])

    def still():
        status = ctl_json(h, f"settle-{next(NAMES)}", socket_path, "status")
        return status["events_in_flight"] == 0 and status["state"] == "paused"
    h.wait_for("in flight to settle after pause", still, timeout_s=20, interval_s=0.2)
    return ctl_json(h, f"own-{next(NAMES)}", socket_path, "status")


def check_rows(h, report, own, urls):
    rows = report["instances"]
    check([r["url"] for r in rows] == urls, f"rows {[r['url'] for r in rows]} != asked {urls}")
    for row, status in zip(rows, own):
        check(row["reachable"] is True, f"{row['url']} not reachable: {row}")
        for key in ("events_acked", "events_failed", "events_in_flight", "events_generated"):
            check(row[key] == status[key], f"{row['url']}: fleet {key} {row[key]} != its own status {status[key]}")
        check(row["state"] == "paused", f"{row['url']}: state {row['state']}")
        shard = status.get("shard")
        part = {"index": shard["index"], "count": shard["count"]} if shard else None
        seed = int(status["seed"]) if status.get("seed") is not None else None
        check(row["shard"] == part and row["seed"] == seed,
              f"{row['url']}: part/seed {row['shard']} {row['seed']} != status {shard} {status.get('seed')}")
        if status["progress"] is None:
            check(row["progress"] is None, f"{row['url']}: a live run shows progress {row['progress']}")
        else:
            check(row["progress"]["roots_total"] == status["progress"]["roots_total"] and
                  row["progress"]["roots_done"] == status["progress"]["roots_done"],
                  f"{row['url']}: progress {row['progress']} != {status['progress']}")
    totals = report["totals"]
    for key in ("events_acked", "events_failed", "events_in_flight", "events_generated"):
        check(totals[key] == sum(s[key] for s in own), f"totals {key} {totals[key]} != the sum")
    backfill = [s["progress"] for s in own if s["progress"] is not None]
    check(totals["progress"]["roots_total"] == sum(p["roots_total"] for p in backfill),
          f"totals progress {totals['progress']} != the backfill's {backfill}")


def test(h):
    sink = h.start_sink()
    live_a = start_daemon(h, sink, "live-a", ["--rate", "3000"])
    live_b = start_daemon(h, sink, "live-b", ["--rate", "2000"])
    backfill = start_daemon(h, sink, "backfill", ["--rate", "5000", "--events", "1000000", "--start",
                                                  "2026-01-01T00:00:00Z", "--end", "2026-01-02T00:00:00Z"])
    daemons = [live_a, live_b, backfill]
    urls = [d[2] for d in daemons]
    h.wait_for("every daemon to ack something", lambda: all(
        ctl_json(h, f"acked-{next(NAMES)}", d[1], "status")["events_acked"] > 0 for d in daemons), timeout_s=20)
    own = [settle(h, d[1]) for d in daemons]
    check(own[2]["progress"] is not None and own[0]["progress"] is None, "the backfill must have progress, live not")

    report = fleet(h, ["--json"] + urls, 0).json()
    check_rows(h, report, own, urls)
    check(report["totals"]["reachable"] == 3, f"totals: {report['totals']}")

    table = fleet(h, urls, 0).stdout
    h.log("table:\n" + table)
    lines = table.splitlines()
    check(len(lines) == 5 and lines[0].split()[:3] == ["instance", "state", "part"], f"table layout:\n{table}")
    for url, line in zip(urls, lines[1:4]):
        check(line.startswith(url) and " paused " in line, f"row for {url}: {line!r}")
    check(lines[4].startswith("total (3 of 3 reachable)"), f"totals row: {lines[4]!r}")
    acked_total = f"{sum(s['events_acked'] for s in own):,}"
    check(acked_total in lines[4], f"the totals row lacks acked {acked_total}: {lines[4]!r}")
    shard = own[0].get("shard")
    part = f"{shard['index']}/{shard['count']}" if shard else "-"
    check(" % " in lines[3] and lines[1].split()[2] == part, f"backfill progress / live part {part!r}: {lines[1:4]}")

    # An instance that is not there: a row saying why, exit 3, the rest still shown.
    dead = f"http://127.0.0.1:{harness.free_port()}"
    listing = h.path("fleet.txt")
    with open(listing, "w") as f:
        f.write("# the fleet\n\n" + "\n".join(urls + [dead]) + "\n")
    report = fleet(h, ["--json", "--file", listing], 3).json()
    check([r["url"] for r in report["instances"]] == urls + [dead], f"--file rows: {report['instances']}")
    check(report["instances"][3]["reachable"] is False and "refused" in report["instances"][3]["error"].lower(),
          f"the dead instance's row: {report['instances'][3]}")
    check(report["totals"]["reachable"] == 3 and report["totals"]["instances"] == 4, f"totals: {report['totals']}")
    table = fleet(h, urls[:1] + [dead], 3).stdout
    check(f"{dead}" in table and "unreachable" in table and "total (1 of 2 reachable)" in table, f"table:\n{table}")

    fleet(h, [], 2)
    fleet(h, ["https://127.0.0.1:1"], 3)
    for _, socket_path, _ in daemons:
        ctl(h, f"resume-{next(NAMES)}", socket_path, ["resume"])
        ctl(h, f"stop-{next(NAMES)}", socket_path, ["stop"])
    for daemon, _, _ in daemons:
        check(daemon.wait(timeout_s=30) == 0, f"{daemon.name} did not exit 0")


if __name__ == "__main__":
    harness.main(test)
