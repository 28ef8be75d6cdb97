#!/usr/bin/env python3
"""e2e.fleet_shard: N processes with --shard i/N make exactly the dataset of
one process (issue 17).

1. A backfill with a dependency rule, one process (--workers 1) to a file:
   the reference. The same with --workers 2, a fleet of 3 parts with
   --workers 1 and a fleet of 2 parts with --workers 2 (each part its own
   file sink, started together): the multiset of lines (sorted hashes) of
   each is the reference's; request ids of different parts never meet.
2. Two parts to one supervent-sink --verify: every event arrives, valid.
3. Part 1/2 at a rate with a checkpoint, killed with SIGKILL part way and
   started again: it ends complete and its output holds exactly the lines of
   part 1/2 of the fleet above (at least once), nothing else. Another part's
   checkpoint is refused.
4. --shard auto/2 from JOB_COMPLETION_INDEX and from a StatefulSet HOSTNAME;
   no index in the environment, or one >= N, is refused clearly.
5. A live run without --seed draws a seed: status JSON has "seed" and
   "shard" {"index", "count"}; two runs draw different seeds; --seed fixes it.
"""

import collections
import hashlib
import json
import re
import signal
import time

import harness
from backfill_common import two_source_backfill
from harness import check, ctl

ROOTS = 20000
SEED = 42
ID = re.compile(rb'"request_id":"([0-9a-f-]{36})"')


def lines_of(path):
    with open(path, "rb") as f:
        data = f.read()
    return collections.Counter(line for line in data.split(b"\n") if line)


def hashes(counter):
    return sorted(hashlib.sha256(line).hexdigest() for line in counter.elements())


def run_fleet(h, tag, config, parts, workers, extra=()):
    """Starts `parts` processes at once, part i writing to its own file; returns each part's lines."""
    procs = []
    for i in range(parts):
        out = h.path(f"{tag}-{i}.ndjson")
        argv = [h.bin("superventd"), "--config", config, "--workers", workers, "--seed", SEED,
                "--sink", f"file:{out}", "--socket", h.path(f"{tag}-{i}.sock"), *extra]
        if parts > 1:
            argv += ["--shard", f"{i}/{parts}"]
        procs.append((h.start(f"{tag}-{i}", argv, timeout_s=60), out))
    result = []
    for proc, out in procs:
        rc = proc.wait(timeout_s=60)
        check(rc == 0, f"{proc.name} exited {rc}:\n{proc.stderr()}")
        result.append(lines_of(out))
    return result


def ids_of(counter):
    return {m.group(1) for line in counter for m in [ID.search(line)] if m}


def fleets_equal_reference(h, config):
    reference = run_fleet(h, "ref", config, 1, 1)[0]
    total = sum(reference.values())
    check(total > ROOTS, f"the reference made {total} events, not more than its {ROOTS} roots")
    want = hashes(reference)
    fleets = {}
    for tag, parts, workers in (("w2", 1, 2), ("p3w1", 3, 1), ("p2w2", 2, 2)):
        got = run_fleet(h, tag, config, parts, workers)
        union = collections.Counter()
        for part in got:
            union.update(part)
        h.log(f"{tag}: parts made {[sum(p.values()) for p in got]} events, union {sum(union.values())} of {total}")
        check(hashes(union) == want,
              f"{tag}: the union of {parts} parts x {workers} workers is not the one-process dataset: "
              f"{sum((reference - union).values())} missing, {sum((union - reference).values())} extra")
        for i in range(parts):
            check(sum(got[i].values()) > 0, f"{tag}: part {i} made nothing")
            for j in range(i + 1, parts):
                shared = ids_of(got[i]) & ids_of(got[j])
                check(not shared, f"{tag}: parts {i} and {j} share {len(shared)} request ids, e.g. {list(shared)[:2]}")
        fleets[tag] = got
    return reference, fleets


def fleet_to_one_sink(h, config, total):
    sink = h.start_sink(verify=True, report=True)
    procs = [h.start(f"http-{i}", [h.bin("superventd"), "--config", config, "--workers", 1, "--seed", SEED,
                                   "--shard", f"{i}/2", "--sink", sink.url, "--socket", h.path(f"http-{i}.sock")],
                     timeout_s=60) for i in range(2)]
    for proc in procs:
        rc = proc.wait(timeout_s=60)
        check(rc == 0, f"{proc.name} exited {rc}:\n{proc.stderr()}")
        check("summary: seed 42, part" in proc.stderr(), f"{proc.name}: no seed and part in the summary")
    report = sink.stop()
    check(report["invalid_events"] == 0, f"{report['invalid_events']} invalid events at the sink")
    check(report["events"] == total, f"the sink got {report['events']} events of the fleet, expected {total}")


def kill_and_resume(h, config, expected):
    out = h.path("resume.ndjson")
    checkpoint = h.path("part1.checkpoint")
    sock = h.path("resume.sock")
    argv = [h.bin("superventd"), "--config", config, "--workers", 1, "--seed", SEED, "--shard", "1/2",
            "--sink", f"file:{out}", "--rate", 8000, "--checkpoint", checkpoint, "--socket", sock]
    first = h.start("resume-first", argv, timeout_s=60)
    harness.wait_running(h, first, sock)
    share = sum(expected.values())

    def settled():
        status = ctl(h, f"status-{time.monotonic()}", sock, ["status"])
        check(status["shard"] == {"index": 1, "count": 2} and status["seed"] == SEED, f"status: {status}")
        return (status["checkpoint"] or {}).get("settled_events", 0) >= share // 4
    h.wait_for("a quarter of the part settled in its checkpoint", settled, timeout_s=30, interval_s=0.2)
    first.signal(signal.SIGKILL)
    check(first.wait(timeout_s=10) == -signal.SIGKILL, "superventd did not die of SIGKILL")
    with open(checkpoint) as f:
        text = f.read()
    check(re.search(r"^part 1 2$", text, re.M), f"the checkpoint does not record its part:\n{text}")

    other = h.run("other-part", [*argv[:argv.index("--shard")], "--shard", "0/2",
                                 *argv[argv.index("--shard") + 2:]], timeout_s=30)
    check(other.rc != 0 and "records part 1/2" in other.stderr,
          f"part 0/2 with part 1/2's checkpoint was not refused (exit {other.rc}):\n{other.stderr}")

    second = h.run("resume-second", [*argv[:argv.index("--rate")], *argv[argv.index("--rate") + 2:]], timeout_s=60)
    check(second.rc == 0, f"the resumed part exited {second.rc}:\n{second.stderr}")
    check("resuming the backfill of checkpoint" in second.stderr, "the second run did not resume")
    with open(checkpoint) as f:
        check("complete yes" in f.read(), "the resumed part's checkpoint is not complete")
    got = lines_of(out)
    missing = expected - got
    strange = [line for line in got if line not in expected]
    h.log(f"resumed part: {sum(got.values())} lines for a share of {share}")
    check(not missing, f"{sum(missing.values())} events of part 1/2 are missing after the resume")
    check(not strange, f"{len(strange)} lines that are not part 1/2's, e.g. {strange[:2]}")


def auto_index(h, config):
    base = [h.bin("superventd"), "--config", config, "--workers", 1, "--seed", SEED, "--sink", "discard:",
            "--shard", "auto/2"]
    clean = {"JOB_COMPLETION_INDEX": "", "SUPERVENT_SHARD_INDEX": "", "HOSTNAME": ""}
    job = h.run("auto-job", [*base, "--socket", h.path("aj.sock")], timeout_s=30,
                env={**clean, "JOB_COMPLETION_INDEX": "1"})
    check(job.rc == 0 and "part 1/2" in job.stderr, f"auto/2 with JOB_COMPLETION_INDEX=1:\n{job.stderr}")
    pod = h.run("auto-pod", [*base, "--socket", h.path("ap.sock")], timeout_s=30,
                env={**clean, "HOSTNAME": "supervent-live-0"})
    check(pod.rc == 0 and "part 0/2" in pod.stderr, f"auto/2 with HOSTNAME=supervent-live-0:\n{pod.stderr}")
    none = h.run("auto-none", [*base, "--socket", h.path("an.sock")], timeout_s=30, env=clean)
    check(none.rc != 0 and "no part index in the environment" in none.stderr,
          f"auto/2 without an index was not refused clearly (exit {none.rc}):\n{none.stderr}")
    big = h.run("auto-big", [*base, "--socket", h.path("ab.sock")], timeout_s=30,
                env={**clean, "SUPERVENT_SHARD_INDEX": "2"})
    check(big.rc != 0 and "only 2 parts" in big.stderr, f"auto/2 with index 2 was not refused:\n{big.stderr}")


def live_seed(h):
    seeds = []
    for n in range(2):
        sock = h.path(f"live-{n}.sock")
        proc = h.start(f"live-{n}", [h.bin("superventd"), "--live", "--sink", "discard:", "--rate", 2000,
                                     "--workers", 1, "--shard", "1/3", "--socket", sock], timeout_s=30)
        status = harness.wait_running(h, proc, sock)
        check(status["shard"] == {"index": 1, "count": 3}, f"status shard: {status.get('shard')}")
        check(isinstance(status["seed"], int), f"status seed: {status.get('seed')}")
        ctl(h, f"stop-{n}", sock, ["stop"])
        check(proc.wait(timeout_s=20) == 0, f"live-{n} did not stop cleanly")
        match = re.search(r"summary: seed (\d+), part 1/3", proc.stderr())
        check(match and int(match.group(1)) == status["seed"], f"the summary does not give the seed:\n{proc.stderr()}")
        check("drawn at random" in proc.stderr(), "a live run without --seed did not say it drew its seed")
        seeds.append(status["seed"])
    check(seeds[0] != seeds[1], f"two live runs drew the same seed {seeds[0]}")


def test(h):
    config = h.path("backfill.toml")
    with open(config, "w") as f:
        f.write(two_source_backfill(ROOTS))
    reference, fleets = fleets_equal_reference(h, config)
    fleet_to_one_sink(h, config, sum(reference.values()))
    kill_and_resume(h, config, fleets["p2w2"][1])
    auto_index(h, config)
    live_seed(h)


if __name__ == "__main__":
    harness.main(test)
