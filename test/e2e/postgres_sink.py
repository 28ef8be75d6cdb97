#!/usr/bin/env python3
"""e2e.postgres_sink: superventd into a real PostgreSQL (started here).

1. --events 20,000 (binary COPY, and again with copy=text) over two workers and two connections each into a table
   the daemon creates: exit 0, acknowledged == generated == rows in the table,
   the password read from a passfile (SCRAM over TCP) and in no log line.
2. The rows parse back into the events sent: the same run (seed, window,
   workers) into a file: sink gives the NDJSON, and the table holds the same
   multiset of (_time to the microsecond, source, event_type, message,
   attributes), every one of them.
3. Per-source tables: a two-source scenario puts each source's events in
   the table named by its dataset.
4. --check-config refuses a password, no database, a bad table name or port
   with the reason (and never echoes the password).
5. A batch the server refuses (a column of the wrong type in an existing
   table) fails with the server's message in the log and in status."""

import json
import os
import re
from datetime import datetime, timezone

import harness
from harness import check
import postgres_common as pg

EVENTS = 20_000
WINDOW = ["--start", "2026-03-01T00:00:00Z", "--end", "2026-03-01T01:00:00Z", "--seed", "7"]


def run_daemon(h, name, sink, extra=(), expect_rc=0):
    argv = [h.bin("superventd"), "--sink", sink, "--events", str(EVENTS), "--workers", "2", "--connections", "2",
            "--batch-events", "1000", "--no-pin"] + WINDOW + list(extra)
    result = h.run(name, argv, timeout_s=60)
    check(result.rc == expect_rc, f"{name} exited {result.rc}, expected {expect_rc}: {result.stderr[-3000:]}")
    return result


def as_utc_micros(text):
    """An RFC 3339 time with up to nanoseconds, as PostgreSQL stores it (microseconds, rounded half up... to even
    is what PostgreSQL does for timestamptz input; compare within a microsecond instead)."""
    head, frac = text.rstrip("Z").split(".")
    seconds = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return int(seconds) * 1_000_000 + int(frac.ljust(9, "0")) / 1000.0


def table_rows(server, table):
    out = server.psql(f"SELECT row_to_json(r) FROM (SELECT (extract(epoch FROM _time) * 1000000)::bigint AS t, "
                      f"source, event_type, message, attributes FROM {table}) r")
    return [json.loads(line) for line in out.splitlines() if line]


def check_rows_match(h, server, ndjson_path, table):
    sent = {}
    with open(ndjson_path) as f:
        for line in f:
            event = json.loads(line)
            key = (event["source"], event["event_type"], event["message"], json.dumps(event["attributes"], sort_keys=True))
            sent.setdefault(key, []).append(as_utc_micros(event["_time"]))
    rows = table_rows(server, table)
    check(len(rows) == sum(len(v) for v in sent.values()), f"{len(rows)} rows, {len(sent)} distinct events sent")
    for row in rows:
        key = (row["source"], row["event_type"], row["message"], json.dumps(row["attributes"], sort_keys=True))
        times = sent.get(key)
        check(times, f"a row that was never sent: {row}")
        match = min(times, key=lambda t: abs(t - row["t"]))
        check(abs(match - row["t"]) <= 1.0, f"row time {row['t']} µs, sent {match} µs: {row}")
        times.remove(match)
    h.log(f"all {len(rows)} rows of {table} parse back into the events sent")


def exact_and_parse_back(h, server):
    result = run_daemon(h, "superventd", server.url("events"))
    summary = harness.require_summary(result.stderr)
    check(summary == {"generated": EVENTS, "acked": EVENTS, "failed": 0, "in_flight": 0}, f"summary: {summary}")
    count = int(server.psql("SELECT count(*) FROM events"))
    check(count == EVENTS, f"the table holds {count} rows, the daemon acknowledged {EVENTS}")
    check(pg.PASSWORD not in result.stderr + result.stdout, "the password appears in superventd's output")
    columns = server.psql("SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position) "
                          "FROM information_schema.columns WHERE table_name = 'events'").strip()
    check(columns == "_time:timestamp with time zone,source:text,event_type:text,message:text,attributes:jsonb",
          f"the table the daemon made has columns {columns}")
    ndjson = h.path("events.ndjson")
    run_daemon(h, "superventd-file", f"file:{ndjson}")
    check_rows_match(h, server, ndjson, "events")
    # The same through text COPY (copy=text; binary is the default).
    result = run_daemon(h, "superventd-text", server.url("events_text", "&copy=text"))
    check(harness.require_summary(result.stderr)["acked"] == EVENTS, f"text COPY: {result.stderr[-1000:]}")
    check_rows_match(h, server, ndjson, "events_text")


def per_source_tables(h, server):
    config = h.path("two_sources.toml")
    with open(config, "w") as f:
        f.write(r'''
[sources.api]
dataset = "api_events"
[sources.api.fields.path]
type = "choice"
values = ["/a", "/b\\c", "/tab\there"]
[[sources.api.event_types]]
name = "request"
message = "GET {path}"

[sources.worker]
dataset = "worker_events"
[sources.worker.fields.job]
type = "choice"
values = ["x", "y"]
[[sources.worker.event_types]]
name = "job"
message = "job {job} said \"done\"\nnext line \u00e9"
''')
    argv = [h.bin("superventd"), "--config", config, "--sink", server.url("unused"), "--events", "4000",
            "--workers", "1", "--no-pin"] + WINDOW
    result = h.run("superventd-sources", argv, timeout_s=60)
    check(result.rc == 0, f"two-source run exited {result.rc}: {result.stderr[-3000:]}")
    summary = harness.require_summary(result.stderr)
    api = int(server.psql("SELECT count(*) FROM api_events"))
    worker = int(server.psql("SELECT count(*) FROM worker_events"))
    check(api + worker == summary["acked"] == summary["generated"], f"api {api} + worker {worker} rows, {summary}")
    check(api > 0 and worker > 0, f"a source's table is empty: api {api}, worker {worker}")
    def count(sql):
        return int(server.psql(sql))
    # Quotes, a newline and a \u escape in the message; a backslash and a tab in an attribute.
    said = count("SELECT count(*) FROM worker_events WHERE message ~ E'^job [xy] said \"done\"\\nnext line \u00e9$'")
    check(said == worker, f"{worker - said} of {worker} worker messages did not survive intact")
    check(count("SELECT count(*) FROM api_events WHERE attributes->>'path' = '/b\\c'") > 0, "a backslash did not survive")
    check(count("SELECT count(*) FROM api_events WHERE attributes->>'path' = E'/tab\\there'") > 0, "a tab did not survive")
    check(count("SELECT count(*) FROM api_events WHERE attributes->>'path' IN ('/a', '/b\\c', E'/tab\\there')") == api,
          "an api row's path is none of those sent")


def refused_batch(h, server):
    server.psql("CREATE TABLE wrong (_time timestamptz, source text, event_type text, message text, attributes int)")
    argv = [h.bin("superventd"), "--sink", server.url("wrong"), "--events", "2000", "--workers", "1",
            "--batch-events", "1000", "--no-pin"] + WINDOW
    result = h.run("superventd-refused", argv, timeout_s=60)
    check(result.rc == 1, f"a refused run must exit 1, not {result.rc}: {result.stderr[-2000:]}")
    summary = harness.require_summary(result.stderr)
    check(summary["failed"] == summary["generated"] and summary["acked"] == 0, f"summary: {summary}")
    # 22P03 "incorrect binary data format" (binary COPY; text COPY would say 22P02)
    check(re.search(r"rejected: 22P0\d ", result.stderr), f"the server's message is not in the log: {result.stderr[-2000:]}")


def check_config(h, server):
    """--check-config validates the URL without connecting, and says what is wrong."""
    good = h.run("check-good", [h.bin("superventd"), "--check-config", "--sink", server.url("events")], timeout_s=30)
    check(good.rc == 0 and "PostgreSQL" in good.stdout + good.stderr, f"a good URL: rc {good.rc}: {good.stdout}{good.stderr}")
    for url, why in (("postgresql://u:hunter2@127.0.0.1/db", "must not carry a password"),
                     ("postgresql://u@127.0.0.1", "names no database"),
                     ("postgresql://u@127.0.0.1/db?table=no;drop", "table"),
                     ("postgresql://u@127.0.0.1:0/db", "port")):
        bad = h.run(f"check-bad-{len(why)}", [h.bin("superventd"), "--check-config", "--sink", url], timeout_s=30)
        text = bad.stdout + bad.stderr
        check(bad.rc == 2 and why in text, f"--check-config --sink {url}: rc {bad.rc}, expected 2 and '{why}': {text}")
        check("hunter2" not in text, f"the password is echoed: {text}")


def test(h, server):
    check_config(h, server)
    exact_and_parse_back(h, server)
    per_source_tables(h, server)
    refused_batch(h, server)


if __name__ == "__main__":
    pg.run_with_postgres(test)
