#!/usr/bin/env python3
"""e2e.fault_sigkill_resume: a backfill killed with SIGKILL resumes from its
checkpoint (--checkpoint) without gaps.

1. File sink, two sources with a dependency rule, at a rate: killed part way,
   a torn last line added, started again with the same command. The torn line
   is gone; every line of an uninterrupted run of
   the same backfill is in the output at least as often as there, nothing else
   is, and the lines sent twice are at most what settled in the checkpoint
   interval before the kill plus what was in flight (the at-least-once window).
2. HTTP to supervent-sink, with a source disabled and enabled again before the
   kill: the replay turns it off and on between the same batches (or the
   resumed daemon fails its own check), and the sink gets every event of the
   completed checkpoint at least once.
3. A complete checkpoint makes a second start do nothing; another run's
   checkpoint (a different seed) and a live run with --checkpoint are refused.
"""

import collections
import re
import signal
import time

import harness
from backfill_common import two_source_backfill
from harness import check, ctl

ROOTS = 60000
RATE = 20000

SCENARIO = two_source_backfill(ROOTS)


def lines_of(path):
    with open(path, "rb") as f:
        data = f.read()
    # A SIGKILL may cut the last write short: a line without its newline is not an event.
    lines = data.split(b"\n")
    return collections.Counter(line for line in lines if line)


def kill_when_settled(h, daemon, sock, floor):
    """SIGKILL once the checkpoint holds at least `floor` settled events."""
    def settled():
        status = ctl(h, f"ctl-status-{time.monotonic()}", sock, ["status"])
        check(status["checkpoint"] is not None, f"no checkpoint in the status: {status}")
        return status["checkpoint"]["settled_events"] >= floor
    h.wait_for(f"{floor} settled events in the checkpoint", settled, timeout_s=30, interval_s=0.1)
    daemon.signal(signal.SIGKILL)
    check(daemon.wait(timeout_s=10) == -signal.SIGKILL, "superventd did not die of SIGKILL")


def checkpoint_events(path):
    with open(path) as f:
        text = f.read()
    return sum(int(n) for n in re.findall(r"^shard \d+ batches \d+ events (\d+)$", text, re.M)), text


def file_sink_resume(h, config):
    base = ["--config", config, "--workers", 2, "--batch-events", 500]
    reference = h.path("reference.ndjson")
    h.run("reference", [h.bin("superventd"), *base, "--sink", f"file:{reference}", "--socket", h.path("ref.sock")],
          timeout_s=60)
    expected = lines_of(reference)
    total = sum(expected.values())
    check(total > ROOTS, f"the reference run made {total} events, fewer than its {ROOTS} roots")

    out = h.path("resumed.ndjson")
    checkpoint = h.path("file.checkpoint")
    sock = h.path("file.sock")
    # Per worker, RATE / 2 events/s makes batches of 1,000 (0.1 s), cut to
    # --batch-events 500: the same sizes as the reference run's.
    argv = [h.bin("superventd"), *base, "--sink", f"file:{out}", "--rate", RATE, "--checkpoint", checkpoint,
            "--socket", sock]
    first = h.start("first", argv, timeout_s=60)
    harness.wait_running(h, first, sock)
    kill_when_settled(h, first, sock, total // 3)
    before_kill = sum(lines_of(out).values())
    settled, text = checkpoint_events(checkpoint)
    h.log(f"killed with {before_kill} events written, {settled} settled in the checkpoint:\n{text}")
    check(0 < settled < total, f"checkpoint after the kill: {settled} of {total} events")
    # As if the kill had cut a write short: the resumed run removes the torn line.
    with open(out, "ab") as f:
        f.write(b'{"_time":"2024-01-01T00:00:00Z","message":"torn')

    second = h.run("second", argv, timeout_s=60)
    check(second.rc == 0, f"the resumed backfill exited {second.rc}:\n{second.stderr}")
    check("resuming the backfill of checkpoint" in second.stderr, "the second run did not say it resumes")
    check("a line the kill cut short" in second.stderr, "the resumed run did not remove the torn line")
    summary = harness.require_summary(second.stderr)
    check(summary["generated"] == total - settled,
          f"the resumed run generated {summary['generated']}, expected the {total - settled} not yet settled")
    check(f"summary: resumed after {settled:,} events the checkpoint had acknowledged" in second.stderr,
          f"the summary does not say the run resumed after {settled} events:\n{second.stderr}")
    settled_after, text = checkpoint_events(checkpoint)
    check("complete yes" in text and settled_after == total, f"final checkpoint:\n{text}")

    got = lines_of(out)
    missing = expected - got
    strange = [line for line in got if line not in expected]
    twice = sum(got.values()) - total
    h.log(f"output {sum(got.values())} lines: {twice} sent twice, {sum(missing.values())} missing, {len(strange)} unknown")
    check(not missing, f"{sum(missing.values())} events of the backfill are missing after the resume, e.g. "
                       f"{list(missing)[:2]}")
    check(not strange, f"{len(strange)} lines the backfill does not make, e.g. {strange[:2]}")
    # At least once: what was written after the last checkpoint write (at most a
    # checkpoint interval, 1 s at RATE) plus the slots in flight.
    window = before_kill - settled
    check(twice == window, f"{twice} events sent twice; the kill left {window} written past the checkpoint")
    check(twice <= RATE * 1.5 + 2 * 2 * 500, f"{twice} events sent twice: more than the at-least-once window")


def http_resume_with_toggles(h, config):
    sink = h.start_sink(verify=True, report=True)
    checkpoint = h.path("http.checkpoint")
    sock = h.path("http.sock")
    # Slower than the file run: the backfill must outlast the toggles (about 8 s).
    rate = RATE // 2.5
    argv = [h.bin("superventd"), "--config", config, "--workers", 2, "--sink", sink.url, "--rate", int(rate),
            "--checkpoint", checkpoint, "--socket", sock]
    first = h.start("http-first", argv, timeout_s=60)
    harness.wait_running(h, first, sock)
    time.sleep(0.5)
    ctl(h, "disable-db", sock, ["sources", "disable", "db"])
    time.sleep(1.3)  # a checkpoint write with the toggle settled before it
    ctl(h, "enable-db", sock, ["sources", "enable", "db"])
    # Its checkpoint replays this scenario: a reload may not change it.
    changed = h.path("changed.toml")
    with open(changed, "w") as f:
        f.write(two_source_backfill(ROOTS, count_divisor=3))
    reply = ctl(h, "reload-changed", sock, ["reload", changed], expect_rc=1)
    check("checkpointed backfill" in reply.get("error", ""), f"a reload of another scenario was not refused: {reply}")
    time.sleep(1.3)
    _, text = checkpoint_events(checkpoint)
    check(re.search(r"^toggle \d+ \d+ 1 off$", text, re.M) and re.search(r"^toggle \d+ \d+ 1 on$", text, re.M),
          f"the checkpoint journals no toggle of db:\n{text}")
    first.signal(signal.SIGKILL)
    check(first.wait(timeout_s=10) == -signal.SIGKILL, "superventd did not die of SIGKILL")

    second = h.run("http-second", argv, timeout_s=60)
    check(second.rc == 0, f"the resumed backfill exited {second.rc}:\n{second.stderr}")
    total, text = checkpoint_events(checkpoint)
    check("complete yes" in text, f"final checkpoint:\n{text}")
    report = sink.stop()
    h.log(f"sink: {report['events']} events, checkpoint total {total}")
    check(report["invalid_events"] == 0, f"{report['invalid_events']} invalid events")
    check(report["events"] >= total, f"the sink got {report['events']} events of the backfill's {total}: a gap")
    check(report["events"] - total <= rate * 1.5 + 2 * 2 * 2000 * 4,
          f"{report['events'] - total} events sent twice: more than the at-least-once window")
    db = report["datasets"]["db"]["events"]
    check(db >= ROOTS // 2, f"db got {db} events of its {ROOTS // 2}")
    return argv


def refusals(h, config, http_argv):
    again = h.run("again", http_argv, timeout_s=30)
    check(again.rc == 0 and "is complete: nothing to do" in again.stderr,
          f"a complete checkpoint did not make the run a no-op (exit {again.rc}):\n{again.stderr}")
    checkpoint = http_argv[http_argv.index("--checkpoint") + 1]
    other = h.run("other-seed", [*http_argv, "--seed", 7], timeout_s=30)
    check(other.rc != 0 and "was written by another run" in other.stderr,
          f"another run's checkpoint was not refused (exit {other.rc}):\n{other.stderr}")
    _, text = checkpoint_events(checkpoint)
    check("complete yes" in text, "a refused run touched the checkpoint")
    live = h.run("live", [h.bin("superventd"), "--config", config, "--live", "--sink", "discard:",
                          "--checkpoint", h.path("live.checkpoint"), "--socket", h.path("live.sock")], timeout_s=30)
    check(live.rc != 0 and "only a backfill" in live.stderr, f"a live run with --checkpoint was not refused:\n{live.stderr}")


def test(h):
    config = h.path("backfill.toml")
    with open(config, "w") as f:
        f.write(SCENARIO)
    file_sink_resume(h, config)
    http_argv = http_resume_with_toggles(h, config)
    refusals(h, config, http_argv)


if __name__ == "__main__":
    harness.main(test)
