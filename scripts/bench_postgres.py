#!/usr/bin/env python3
"""superventd into PostgreSQL, beside psql's \\copy of the same rows, in one run.

    scripts/bench_postgres.py [--bin-dir build/bin] [--events 1000000] [--workers 2] [--connections 2]

Starts a throwaway PostgreSQL (Debian's postgresql package; as the postgres
user when run as root) on a free loopback port, fsync off for every row of
the table alike, then measures, wall clock from process start to exit:

- superventd --sink postgresql://... (generation, COPY rows, commit per
  batch) with --workers x --connections parallel COPY streams, and with one,
  in binary COPY (the default) and text (copy=text);
- psql \\copy FROM a file holding exactly the rows superventd wrote (taken
  back out of its table), in text and in binary format: one stream, and the
  file split into as many parallel psql streams as superventd had;
- the same for columns=typed (a column per web_access field, binary COPY)
  and columns=typed&unlogged=true: superventd, then psql's binary \\copy of
  the very rows it wrote into a fresh table of the same definition (LIKE,
  UNLOGGED alike), one stream and as many streams as superventd had.

The server recycles its WAL (min_wal_size = max_wal_size, and a warm-up
load then CHECKPOINT before anything is measured, and a CHECKPOINT before
each row) as a server that has been running does: a fresh server's first
gigabytes of WAL each cost a zero-filled 16 MB segment file, which doubled
the server's CPU per row here and would favour whichever row ran last.

Every row is checked in: the table's count must equal the events. The
machine may be shared: compare the ratios of rows measured in the same run.
"""
import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "e2e"))
import harness  # noqa: E402
import postgres_common as pg  # noqa: E402

COLUMNS = "_time timestamptz, source text, event_type text, message text, attributes jsonb"


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu_s(server):
    """CPU seconds of the server's exited children (its backends), as the
    postmaster's cutime + cstime account them once it has reaped them."""
    with open(os.path.join(server.data, "postmaster.pid")) as f:
        pid = int(f.readline())
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / CLOCK_TICKS  # cutime, cstime (fields 16 and 17)


def client_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Meter:
    """Wall, client and server CPU seconds over a block."""

    def __init__(self, server):
        self.server = server

    def __enter__(self):
        time.sleep(0.3)  # backends of the step before are reaped
        self.wall, self.client, self.backend = time.monotonic(), client_cpu_s(), server_cpu_s(self.server)
        return self

    def __exit__(self, *exc):
        self.wall = time.monotonic() - self.wall
        self.client = client_cpu_s() - self.client
        time.sleep(0.3)
        self.backend = server_cpu_s(self.server) - self.backend


def timed(argv, env=None):
    started = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=900, env=env)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return elapsed, result


def psql_argv(server, command):
    return ["psql", "-X", "-h", server.dir, "-p", str(server.port), "-U", "postgres", "-d", "postgres",
            "-v", "ON_ERROR_STOP=1", "-q", "-c", command]


def fresh_table(server, name, like=None, unlogged=False):
    definition = f"(LIKE {like})" if like else f"({COLUMNS})"
    server.psql(f"DROP TABLE IF EXISTS {name}; CREATE {'UNLOGGED ' if unlogged else ''}TABLE {name} {definition}")
    server.psql("CHECKPOINT")


def count(server, table):
    return int(server.psql(f"SELECT count(*) FROM {table}"))


def superventd_row(args, server, streams_workers, streams_connections, table, url_extra=""):
    server.psql(f"DROP TABLE IF EXISTS {table}")
    server.psql("CHECKPOINT")
    argv = [os.path.join(args.bin_dir, "superventd"), "--sink", server.url(table, url_extra), "--events", str(args.events),
            "--workers", str(streams_workers), "--connections", str(streams_connections), "--batch-events",
            str(args.batch_events), "--start", "2026-03-01T00:00:00Z", "--end", "2026-03-02T00:00:00Z", "--seed", "7"]
    with Meter(server) as meter:
        _, result = timed(argv)
    summary = re.search(r"([\d,]+) acknowledged", result.stderr)
    acked = int(summary.group(1).replace(",", "")) if summary else -1
    rows = count(server, table)
    if rows != args.events or acked != args.events:
        sys.exit(f"superventd: {rows} rows, {acked} acknowledged, {args.events} expected:\n{result.stderr[-2000:]}")
    return meter


def psql_row(server, paths, table, binary, like=None, unlogged=False):
    fresh_table(server, table, like, unlogged)
    option = " with (format binary)" if binary else ""

    def one(path):
        return timed(psql_argv(server, f"\\copy {table} from '{path}'{option}"))[0]
    with Meter(server) as meter:
        with ThreadPoolExecutor(max_workers=len(paths)) as pool:
            list(pool.map(one, paths))
    return meter


def export_binary_parts(server, table, directory, parts):
    """The table's rows as `parts` binary COPY files (split by a hash of each row)."""
    paths = []
    for i in range(parts):
        path = os.path.join(directory, f"{table}.{i}.bin")
        query = f"SELECT * FROM {table} WHERE abs(hashtext(message || _time::text)) % {parts} = {i}"
        timed(psql_argv(server, f"\\copy ({query}) to '{path}' with (format binary)"))
        paths.append(path)
    return paths


def typed_rows(args, server, h, streams, unlogged):
    """superventd with columns=typed, and psql's binary \\copy of the same rows into the same kind of table."""
    kind = "typed, unlogged" if unlogged else "typed"
    table = "bench_typed_unlogged" if unlogged else "bench_typed"
    extra = "&columns=typed" + ("&unlogged=true" if unlogged else "")
    rows = [(f"superventd columns={kind}, {args.workers} workers x {args.connections} connections", streams,
             superventd_row(args, server, args.workers, args.connections, table, extra))]
    single = os.path.join(h.dir, f"{table}.bin")
    timed(psql_argv(server, f"\\copy {table} to '{single}' with (format binary)"))
    rows.append((f"psql \\copy from a file, binary, {kind} table", 1,
                 psql_row(server, [single], f"{table}_psql", True, like=table, unlogged=unlogged)))
    parts = export_binary_parts(server, table, h.dir, streams)
    rows.append((f"psql \\copy from {streams} files in parallel, binary, {kind} table", streams,
                 psql_row(server, parts, f"{table}_psql_many", True, like=table, unlogged=unlogged)))
    for name in (f"{table}_psql", f"{table}_psql_many"):
        if count(server, name) != args.events:
            sys.exit(f"{name}: {count(server, name)} rows, {args.events} expected")
    return rows


def warm_up(args, server):
    """Fills and drops a table, then checkpoints, so that the measured rows write into recycled WAL segments."""
    superventd_row(args, server, 1, 2, "bench_warm_up")
    server.psql("DROP TABLE bench_warm_up")
    server.psql("CHECKPOINT")


def split_text(path, parts):
    with open(path, "rb") as f:
        lines = f.readlines()
    paths = []
    for i in range(parts):
        part = f"{path}.{i}"
        with open(part, "wb") as f:
            f.writelines(lines[i::parts])
        paths.append(part)
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", default="build/bin")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--batch-events", type=int, default=5000)
    parser.add_argument("--no-typed", action="store_true", help="leave out the columns=typed rows")
    args = parser.parse_args()
    args.bin_dir = os.path.abspath(args.bin_dir)
    pg.skip_unless_available()
    h = harness.Harness("bench_postgres", args.bin_dir)
    server = pg.Postgres(h, ["min_wal_size=4GB", "checkpoint_timeout=1h"])
    try:
        streams = args.workers * args.connections
        rows = []
        warm_up(args, server)
        t = superventd_row(args, server, args.workers, args.connections, "bench_supervent_many")
        rows.append((f"superventd, {args.workers} workers x {args.connections} connections", streams, t))
        t = superventd_row(args, server, 1, 1, "bench_supervent")
        rows.append(("superventd, 1 worker x 1 connection", 1, t))
        t = superventd_row(args, server, 1, 1, "bench_supervent_text", "&copy=text")
        rows.append(("superventd, 1 worker x 1 connection, copy=text", 1, t))
        # What generation alone costs the client: the same events, dropped.
        with Meter(server) as meter:
            timed([os.path.join(args.bin_dir, "superventd"), "--sink", "discard:", "--events", str(args.events),
                   "--workers", "1", "--batch-events", str(args.batch_events), "--start", "2026-03-01T00:00:00Z",
                   "--end", "2026-03-02T00:00:00Z", "--seed", "7"])
        rows.append(("superventd --sink discard: (generation alone, no COPY)", 0, meter))
        # The very rows superventd wrote, as files for psql.
        text_file = os.path.join(h.dir, "rows.txt")
        binary_file = os.path.join(h.dir, "rows.bin")
        server.psql(f"SELECT 1")
        timed(psql_argv(server, f"\\copy bench_supervent to '{text_file}'"))
        timed(psql_argv(server, f"\\copy bench_supervent to '{binary_file}' with (format binary)"))
        rows.append(("psql \\copy from a file, text", 1, psql_row(server, [text_file], "bench_text", False)))
        rows.append(("psql \\copy from a file, binary", 1, psql_row(server, [binary_file], "bench_binary", True)))
        parts = split_text(text_file, streams)
        rows.append((f"psql \\copy from {streams} files in parallel, text", streams,
                     psql_row(server, parts, "bench_text_many", False)))
        for table in ("bench_text", "bench_binary", "bench_text_many"):
            got = count(server, table)
            if got != args.events:
                sys.exit(f"{table}: {got} rows, {args.events} expected")
        jsonb_tables = ("bench_supervent_many", "bench_supervent", "bench_supervent_text", "bench_text", "bench_binary",
                        "bench_text_many")
        server.psql("DROP TABLE " + ", ".join(jsonb_tables))  # the page cache and the disk are the machine's
        if not args.no_typed:
            rows += typed_rows(args, server, h, streams, unlogged=False)
            rows += typed_rows(args, server, h, streams, unlogged=True)
        size_mb = os.path.getsize(text_file) / 1e6
        print(f"\n{args.events:,} events (web_access, {size_mb / args.events * 1e6:.0f} B per COPY text row), "
              f"batches of {args.batch_events}, PostgreSQL {server.psql('SHOW server_version').strip()}, fsync off, "
              f"WAL recycled; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
        print("| what | COPY streams | wall s | rows/s | rate vs psql text, 1 stream | client CPU µs/row | server CPU µs/row |")
        print("|------|-------------:|-------:|-------:|----------------------------:|------------------:|------------------:|")
        peer = next(m for name, _, m in rows if name == "psql \\copy from a file, text")
        for name, n, m in rows:
            print(f"| {name} | {n} | {m.wall:.2f} | {args.events / m.wall:,.0f} | {peer.wall / m.wall:.2f}x | "
                  f"{m.client / args.events * 1e6:.2f} | {m.backend / args.events * 1e6:.2f} |")
        # Each superventd row beside psql into the same kind of table with as many streams.
        by_name = {name: m for name, _, m in rows}
        pairs = [(f"superventd, {args.workers} workers x {args.connections} connections",
                  f"psql \\copy from {streams} files in parallel, text")]
        if not args.no_typed:
            for kind in ("typed", "typed, unlogged"):
                pairs.append((f"superventd columns={kind}, {args.workers} workers x {args.connections} connections",
                              f"psql \\copy from {streams} files in parallel, binary, {kind} table"))
        print("\n| superventd | its psql peer (same table, same streams) | rate vs peer | server CPU vs peer |")
        print("|------------|-------------------------------------------|-------------:|-------------------:|")
        for ours, theirs in pairs:
            a, b = by_name[ours], by_name[theirs]
            print(f"| {ours} | {theirs} | {b.wall / a.wall:.2f}x | {a.backend / max(b.backend, 1e-9):.2f}x |")
    finally:
        server.close()
        h.cleanup(False)


if __name__ == "__main__":
    main()
