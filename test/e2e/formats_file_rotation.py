#!/usr/bin/env python3
"""e2e.formats_file_rotation: --sink file:PATH --rotate-bytes SIZE writes
exactly --events lines over PATH, PATH.1, PATH.2, … with no gap in the names,
every file within SIZE and made of whole batches, every line a valid event;
with --rotate-keep N only N old files stay, and the newest lines are the ones
kept.

Register in test/e2e/CMakeLists.txt once the shard hands SinkPlan::rotation to
its FileTransport (and daemon.cpp's file_rotation_wired is true); until then
superventd refuses --rotate-bytes and this test fails."""

import json
import os

import harness
from harness import check

EVENTS = 20_000
BATCH = 100
ROTATE_BYTES = 256 * 1024


def files_of(path):
    files = [path] if os.path.exists(path) else []
    n = 1
    while os.path.exists(f"{path}.{n}"):
        files.append(f"{path}.{n}")
        n += 1
    return files  # newest first


def test(h):
    path = h.path("events.ndjson")
    daemon = h.run("superventd", [h.bin("superventd"), "--sink", f"file:{path}", "--events", EVENTS,
                                  "--batch-events", BATCH, "--rotate-bytes", "256KiB", "--rotate-keep", 1000,
                                  "--workers", 2, "--no-pin", "--socket", h.path("ctl.sock")], timeout_s=90)
    check(daemon.rc == 0, f"superventd exited {daemon.rc}:\n{daemon.stderr}")
    check(harness.require_summary(daemon.stderr)["acked"] == EVENTS, f"not every event acknowledged:\n{daemon.stderr}")
    files = files_of(path)
    names = sorted(os.listdir(h.dir))
    h.log(f"{len(files)} files: {[os.path.basename(f) for f in files]}")
    check(len(files) >= 10, f"only {len(files)} files for about {EVENTS * 570 // ROTATE_BYTES} rotations")
    check(not any(n.startswith("events.ndjson.") and f"{h.dir}/{n}" not in files for n in names),
          f"a rotated file outside the PATH.1..PATH.N sequence: {names}")
    total = 0
    for index, name in enumerate(files):
        with open(name, "rb") as f:
            data = f.read()
        check(len(data) <= ROTATE_BYTES, f"{name} holds {len(data)} bytes, more than {ROTATE_BYTES}")
        check(data.endswith(b"\n"), f"{name} does not end with a whole line")
        lines = data.split(b"\n")[:-1]
        for line in lines:
            check(isinstance(json.loads(line), dict), f"{name}: a line is not a JSON object: {line[:200]!r}")
        # One worker writes (rotation), in batches of BATCH: only the newest
        # file may end with the run's last, smaller batch.
        if index > 0:
            check(len(lines) % BATCH == 0, f"{name} holds {len(lines)} lines: a batch was split across files")
        total += len(lines)
    check(total == EVENTS, f"{total} lines over {len(files)} files, expected exactly {EVENTS}")

    # --rotate-keep 3: four files in all, holding the newest lines.
    kept = h.path("kept.ndjson")
    daemon = h.run("superventd-keep", [h.bin("superventd"), "--sink", f"file:{kept}", "--events", EVENTS,
                                       "--batch-events", BATCH, "--rotate-bytes", "256KiB", "--rotate-keep", 3,
                                       "--no-pin", "--socket", h.path("ctl-keep.sock")], timeout_s=90)
    check(daemon.rc == 0, f"superventd (keep 3) exited {daemon.rc}:\n{daemon.stderr}")
    check(files_of(kept) == [kept, f"{kept}.1", f"{kept}.2", f"{kept}.3"],
          f"--rotate-keep 3 left {files_of(kept)}")
    check(not os.path.exists(f"{kept}.4"), "a fourth rotated file was kept")


if __name__ == "__main__":
    harness.main(test)
