#!/usr/bin/env python3
"""e2e.postgres_typed: columns=typed into a real PostgreSQL (started here).

1. web_access with columns=typed over two workers and two connections: the
   daemon makes the table with a column per field and its type (status
   bigint, client_ip inet, response_time_ms double precision, request_id
   uuid ...); acknowledged == generated == rows; every row matches, column by
   column, the event of the same request_id in the same run written to a
   file: sink.
2. A two-source scenario: dotted fields become name_with_underscores, an
   IPv6, a boolean, a float and a flat-layout source each in the table of its
   dataset, values checked per column; unlogged=true makes UNLOGGED tables.
3. An existing table without one of the columns, or with another type, is
   refused before any batch: the run stops as fatal (exit 3), every event
   counted failed, and the log names the column.
4. --check-config shows the typed table's columns."""

import ipaddress
import json
import math
from datetime import datetime, timezone

import harness
from harness import check
import postgres_common as pg

EVENTS = 20_000
WINDOW = ["--start", "2026-03-01T00:00:00Z", "--end", "2026-03-01T01:00:00Z", "--seed", "7"]
WEB_COLUMNS = ("_time:timestamp with time zone,source:text,event_type:text,message:text,method:text,path:text,"
               "protocol:text,status:bigint,bytes:bigint,client_ip:inet,user_agent:text,referer:text,"
               "response_time_ms:double precision,request_id:uuid")


def run_daemon(h, name, sink, extra=(), events=EVENTS, expect_rc=0):
    argv = [h.bin("superventd"), "--sink", sink, "--events", str(events), "--workers", "2", "--connections", "2",
            "--batch-events", "1000", "--no-pin"] + WINDOW + list(extra)
    result = h.run(name, argv, timeout_s=60)
    check(result.rc == expect_rc, f"{name} exited {result.rc}, expected {expect_rc}: {result.stderr[-3000:]}")
    return result


def columns_of(server, table):
    return server.psql("SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position) "
                       f"FROM information_schema.columns WHERE table_name = '{table}'").strip()


def micros(text):
    """RFC 3339 UTC with up to nanoseconds -> microseconds since the epoch, as a float."""
    head, frac = text.rstrip("Z").split(".")
    seconds = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return int(seconds) * 1_000_000 + int(frac.ljust(9, "0")) / 1000.0


def rows_by(server, table, key, columns):
    """{key value: row dict} with _time as epoch microseconds and inet as its address text."""
    select = ", ".join(["(extract(epoch FROM _time) * 1000000)::bigint AS t"] +
                       [f"host({c}) AS {c}" if c.endswith("ip") or c.endswith("ip6") else c for c in columns])
    out = server.psql(f"SELECT row_to_json(r) FROM (SELECT {select} FROM {table}) r")
    rows = [json.loads(line) for line in out.splitlines() if line]
    return {str(row[key]): row for row in rows}, len(rows)


def same(sent, got, column):
    if column in ("client", "client_ip"):  # inet shows an address in its canonical form
        return got is not None and ipaddress.ip_address(sent) == ipaddress.ip_address(got)
    if isinstance(sent, float) or isinstance(got, float):
        return got is not None and math.isclose(float(sent), float(got), rel_tol=1e-12)
    return sent == got


def web_access_typed(h, server):
    result = run_daemon(h, "superventd", server.url("web", "&columns=typed"))
    summary = harness.require_summary(result.stderr)
    check(summary == {"generated": EVENTS, "acked": EVENTS, "failed": 0, "in_flight": 0}, f"summary: {summary}")
    check(int(server.psql("SELECT count(*) FROM web")) == EVENTS, "rows in the table != acknowledged")
    check(columns_of(server, "web") == WEB_COLUMNS, f"the typed table has columns {columns_of(server, 'web')}")
    check(server.psql("SELECT relpersistence FROM pg_class WHERE relname = 'web'").strip() == "p",
          "a table without unlogged=true must be logged")
    ndjson = h.path("web.ndjson")
    run_daemon(h, "superventd-file", f"file:{ndjson}")
    fields = ["source", "event_type", "message", "method", "path", "protocol", "status", "bytes", "client_ip",
              "user_agent", "referer", "response_time_ms", "request_id"]
    rows, count = rows_by(server, "web", "request_id", fields)
    check(count == len(rows) == EVENTS, f"{count} rows, {len(rows)} distinct request ids")
    checked = 0
    with open(ndjson) as f:
        for line in f:
            event = json.loads(line)
            values = dict(event["attributes"], source=event["source"], event_type=event["event_type"],
                          message=event["message"])
            row = rows.get(values["request_id"])
            check(row is not None, f"no row for the event {event}")
            check(abs(row["t"] - micros(event["_time"])) <= 1.0, f"_time {row['t']} for {event['_time']}")
            for column in fields:
                check(same(values[column], row[column], column),
                      f"column {column}: the table has {row[column]!r}, the event {values[column]!r}")
            checked += 1
    check(checked == EVENTS, f"{checked} events checked")
    h.log(f"all {checked} typed rows match their events column by column")


SCENARIO = r'''
[sources.api]
dataset = "api_typed"
[sources.api.fields."http.status"]
type = "choice"
values = [200, 503]
[sources.api.fields."http.took"]
type = "float"
min = 0.5
max = 9.5
precision = 3
[sources.api.fields.client]
type = "ipv6"
cidrs = ["2001:db8::/64"]
[sources.api.fields.cached]
type = "choice"
values = [true, false]
[[sources.api.event_types]]
name = "request"
message = "GET took {http.took}"

[sources.worker]
dataset = "worker_typed"
layout = "flat"
[sources.worker.fields.job]
type = "integer"
min = 1
max = 1000
[sources.worker.fields.queue]
type = "choice"
values = ["a\tb", "c\\d"]
[[sources.worker.event_types]]
name = "job"
message = "job done"
'''


def two_sources(h, server):
    config = h.path("typed_sources.toml")
    with open(config, "w") as f:
        f.write(SCENARIO)
    ndjson = h.path("two.ndjson")
    base = ["--config", config]
    result = run_daemon(h, "superventd-sources", server.url("unused", "&columns=typed&unlogged=true"), base, 4000)
    summary = harness.require_summary(result.stderr)
    api = int(server.psql("SELECT count(*) FROM api_typed"))
    worker = int(server.psql("SELECT count(*) FROM worker_typed"))
    check(api + worker == summary["acked"] == summary["generated"] == 4000, f"api {api} + worker {worker}: {summary}")
    check(api > 0 and worker > 0, f"a source's table is empty: api {api}, worker {worker}")
    check(columns_of(server, "api_typed") == "_time:timestamp with time zone,source:text,event_type:text,message:text,"
          "http_status:bigint,http_took:double precision,client:inet,cached:boolean,request_id:uuid",
          f"api_typed columns: {columns_of(server, 'api_typed')}")
    check(columns_of(server, "worker_typed") == "_time:timestamp with time zone,source:text,event_type:text,"
          "message:text,job:bigint,queue:text,request_id:uuid", f"worker_typed columns: {columns_of(server, 'worker_typed')}")
    persistence = server.psql("SELECT string_agg(relpersistence::text, '') FROM pg_class "
                              "WHERE relname IN ('api_typed', 'worker_typed')").strip()
    check(persistence == "uu", f"unlogged=true made tables of persistence {persistence!r}")
    run_daemon(h, "superventd-sources-file", f"file:{ndjson}", base, 4000)
    api_rows, _ = rows_by(server, "api_typed", "request_id", ["http_status", "http_took", "client", "cached", "request_id"])
    worker_rows, _ = rows_by(server, "worker_typed", "request_id", ["job", "queue", "request_id"])
    with open(ndjson) as f:
        for line in f:
            event = json.loads(line)
            if event["source"] == "api":
                a = event["attributes"]
                row = api_rows[a["request_id"]]
                sent = {"http_status": a["http"]["status"], "http_took": a["http"]["took"], "client": a["client"],
                        "cached": a["cached"]}
            else:
                row = worker_rows[event["request_id"]]
                sent = {"job": event["job"], "queue": event["queue"]}
            for column, value in sent.items():
                check(same(value, row[column], column), f"{column}: table {row[column]!r}, event {value!r}")
    h.log(f"{api} api and {worker} worker rows match their events (nested dotted fields, IPv6, boolean, flat layout)")


def refused_tables(h, server):
    server.psql("CREATE TABLE lacks (_time timestamptz, source text, event_type text, message text, method text)")
    server.psql("CREATE TABLE mistyped AS SELECT * FROM web WHERE false; ALTER TABLE mistyped ALTER status TYPE int")
    for table, why in (("lacks", 'has no column path'), ("mistyped", "column status of table \"mistyped\" is integer")):
        result = run_daemon(h, f"superventd-{table}", server.url(table, "&columns=typed"), events=2000, expect_rc=3)
        check(why in result.stderr, f"the log does not say '{why}': {result.stderr[-2000:]}")
        summary = harness.require_summary(result.stderr)
        check(summary["acked"] == 0 and summary["failed"] == summary["generated"], f"summary: {summary}")
        check(int(server.psql(f"SELECT count(*) FROM {table}")) == 0, f"rows went into {table}")


def check_config(h, server):
    result = h.run("check-typed", [h.bin("superventd"), "--check-config", "--sink", server.url("web", "&columns=typed")],
                   timeout_s=30)
    text = result.stdout + result.stderr
    check(result.rc == 0 and "client_ip inet" in text and "request_id uuid" in text,
          f"--check-config does not show the typed columns: rc {result.rc}: {text}")


def test(h, server):
    check_config(h, server)
    web_access_typed(h, server)
    two_sources(h, server)
    refused_tables(h, server)


if __name__ == "__main__":
    pg.run_with_postgres(test)
