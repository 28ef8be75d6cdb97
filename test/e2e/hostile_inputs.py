#!/usr/bin/env python3
"""e2e.hostile_inputs (issue 14): no config file, checkpoint path or control
command makes superventd crash, hang or swallow memory.

- Each file of test/data/hostile/ through `--check-config` and `supervent-ctl
  convert` under a 512 MiB address-space limit: refused (exit 2, and 1 for
  supervent-ctl) naming FILE:LINE.
- The same files through `supervent-ctl reload FILE` and SIGHUP (the --config
  file rewritten) against running daemons (a TOML one and a YAML one): each
  reload refused with the reason, answered promptly, the daemon still running
  at its rate with its memory bounded.
- `rate 1e-300` refused with the range; thousands of identical `rate`
  requests write a handful of log lines, not thousands.
- Checkpoint paths that cannot hold a checkpoint refused before the run with
  a reason; a checkpoint a resumed run refuses is left as it was."""

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import time

import itertools

import harness
from harness import check, ctl
from fault_common import rss_kib

_names = itertools.count()


def unique(name):
    """The harness keeps each process's output by name: one name per run."""
    return f"{name}-{next(_names)}"

HOSTILE_DIR = os.path.join(harness.REPO_DIR, "test", "data", "hostile")
HOSTILE = {  # file: the line its refusal names, and words of the reason
    "toml_dotted_header.toml": (1, "dotted parts"),
    "toml_dotted_key.toml": (2, "dotted parts"),
    "toml_deep_arrays.toml": (2, "nested more than"),
    "yaml_self_alias.yaml": (1, "an alias inside the node it refers to"),
    "yaml_billion_laughs.yaml": (7, "aliases counted as what they repeat"),
    "yaml_deep.yaml": (1, "nested more than"),
}
ADDRESS_SPACE = 512 << 20
RSS_GROWTH_MAX_KIB = 64 << 10
WINDOW = ["--start", "2026-01-01T00:00:00Z", "--end", "2026-01-01T01:00:00Z"]


def sanitized(binary):
    """Whether a binary runs under ASan or TSan, which reserve terabytes of
    shadow address space at start-up: no address-space limit can apply there
    (the timeout still does, and the sanitizer reports a runaway allocation)."""
    linked = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    return "libasan" in linked or "libtsan" in linked


def limited(argv):
    if sanitized(argv[0]):
        return argv
    return ["prlimit", f"--as={ADDRESS_SPACE}", "--"] + argv


def check_files_refused(h):
    for name, (line, words) in HOSTILE.items():
        path = os.path.join(HOSTILE_DIR, name)
        # superventd exits 2 for a bad config; supervent-ctl exits 1 for any refusal.
        for tag, argv, rc in (("check", [h.bin("superventd"), "--config", path, "--check-config"], 2),
                              ("convert", [h.bin("supervent-ctl"), "convert", path], 1)):
            result = h.run(f"{tag}-{name}", limited(argv), timeout_s=20)
            check(result.rc == rc, f"{tag} {name}: exit {result.rc}, expected {rc}; stderr: {result.stderr[-2000:]}")
            check(f"{path}:{line}: " in result.stderr and words in result.stderr,
                  f"{tag} {name}: the refusal does not name {path}:{line} and say {words!r}: {result.stderr[-2000:]}")
            check(result.elapsed_s < 5, f"{tag} {name}: took {result.elapsed_s:.1f} s")
        h.log(f"{name}: refused by --check-config and convert")


def generated(h, sock):
    return ctl(h, unique("status"), sock, ["status"])["events_generated"]


def check_still_running(h, daemon, sock, rate, baseline_kib, tag):
    check(daemon.running(), f"[{tag}] superventd exited with {daemon.poll()}: {daemon.stderr()[-2000:]}")
    status = ctl(h, unique(f"status-{tag}"), sock, ["status"])
    check(status["state"] == "running" and status["rate_target"] == rate,
          f"[{tag}] state {status['state']}, rate target {status['rate_target']} (expected running at {rate})")
    before = status["events_generated"]
    time.sleep(0.5)
    check(generated(h, sock) > before, f"[{tag}] no events generated after the refused reload")
    rss = rss_kib(daemon.pid) or 0
    check(rss - baseline_kib < RSS_GROWTH_MAX_KIB, f"[{tag}] RSS grew from {baseline_kib} to {rss} KiB")


def check_reloads_refused(h, config_name, config_text, extra, hostile_suffix):
    """A daemon on `config_name`: every hostile file by `reload FILE`, and those
    of its own kind by SIGHUP after rewriting its --config file."""
    sock = h.path(f"{config_name}.sock")
    config = h.path(config_name)
    with open(config, "w") as f:
        f.write(config_text)
    daemon = h.start(f"superventd-{config_name}", [h.bin("superventd"), "--config", config, "--sink", "discard:",
                                                   "--socket", sock, "--workers", 1] + extra, timeout_s=110)
    rate = harness.wait_running(h, daemon, sock)["rate_target"]
    baseline = rss_kib(daemon.pid) or 0
    for name, (line, words) in HOSTILE.items():
        path = os.path.join(HOSTILE_DIR, name)
        result = ctl(h, unique(f"reload-{name}"), sock, ["reload", path], expect_rc=1, json_out=False)
        check(f"{path}:{line}: " in result.stderr and words in result.stderr,
              f"reload {name}: the refusal does not say why: {result.stderr[-2000:]}")
        check(result.elapsed_s < 3, f"reload {name}: the answer took {result.elapsed_s:.1f} s")
        check_still_running(h, daemon, sock, rate, baseline, f"reload {name}")
        if name.endswith(hostile_suffix):
            shutil.copyfile(path, config)
            reloads = ctl(h, unique("status-before-hup"), sock, ["status"])["reloads"]
            daemon.signal(signal.SIGHUP)
            h.wait_for(f"the SIGHUP reload of {name} to be refused",
                       lambda: f"{config}:{line}: " in daemon.stderr(), timeout_s=5)
            check_still_running(h, daemon, sock, rate, baseline, f"SIGHUP {name}")
            check(ctl(h, unique("status-after-hup"), sock, ["status"])["reloads"] == reloads, f"SIGHUP {name} was applied")
        h.log(f"{config_name}: reload {name} refused, still running at {rate} events/s")
    return daemon, sock


def request_lines(sock_path, lines):
    """Sends JSON requests on one connection; returns the replies."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock_path)
        s.sendall("".join(json.dumps(line) + "\n" for line in lines).encode())
        data = b""
        while data.count(b"\n") < len(lines):
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            data += chunk
    return [json.loads(line) for line in data.decode().splitlines()]


def check_rates(h, daemon, sock):
    result = ctl(h, "rate-tiny", sock, ["rate", "1e-300"], expect_rc=1, json_out=False)
    check("the range is 0.01 to" in result.stderr,
          f"rate 1e-300 not refused with the range: {result.stderr}")
    result = ctl(h, "rate-huge", sock, ["rate", "1e13"], expect_rc=1, json_out=False)
    check("the range is 0.01 to" in result.stderr, f"rate 1e13 not refused with the range: {result.stderr}")
    before = daemon.stderr().count("set generation.rate = ")
    replies = []
    for _ in range(4):
        replies += request_lines(sock, [{"cmd": "rate", "value": 7000}] * 1000)
    check(len(replies) == 4000 and all(r["ok"] for r in replies), "4000 rate requests not all answered ok")
    time.sleep(0.3)
    written = daemon.stderr().count("set generation.rate = ") - before
    check(written <= 3, f"4000 identical rate requests wrote {written} log lines")
    h.log(f"4000 identical rate requests: {written} log lines")


def make_special(h, kind):
    path = h.path(f"special-{kind}")
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        os.mkdir(path)
    return path


def checkpoint_paths(h):
    """Path -> words of its refusal; each also through a symbolic link."""
    paths = {
        h.path("no-such-dir/ck"): "does not exist",
        "/dev/zero": "character device",
        "/dev/full": "character device",
        make_special(h, "directory"): "a directory, not a regular file",
        make_special(h, "fifo"): "a FIFO, not a regular file",
    }
    read_only = h.path("read-only")
    os.mkdir(read_only, 0o555)
    if os.geteuid() != 0:  # root writes there anyway; /proc refuses root too
        paths[os.path.join(read_only, "ck")] = "cannot create files in"
    paths["/proc/ck"] = "cannot create files in"
    for target in list(paths):
        link = h.path(f"link-{len(paths)}")
        os.symlink(target, link)
        paths[link] = "symbolic link"
    return paths


def check_checkpoints(h):
    for number, (path, words) in enumerate(checkpoint_paths(h).items()):
        result = h.run(f"checkpoint-{number}-{os.path.basename(path)}",
                       limited([h.bin("superventd"), "--sink", "discard:", "--events", "1000", "--checkpoint", path]
                               + WINDOW), timeout_s=20)
        check(result.rc == 2 and path in result.stderr and words in result.stderr,
              f"--checkpoint {path}: exit {result.rc}, expected 2 saying {words!r}: {result.stderr[-1500:]}")
        check("written" not in result.stderr, f"--checkpoint {path}: reported written: {result.stderr[-1500:]}")
    h.log("checkpoint paths refused before the run")
    # A checkpoint this run refuses (it records more batches than the backfill has) is left as it was.
    path = h.path("day.checkpoint")
    argv = [h.bin("superventd"), "--sink", "discard:", "--events", "2000", "--workers", 1, "--seed", 3,
            "--checkpoint", path] + WINDOW
    check(h.run("checkpoint-first", argv, timeout_s=60).rc == 0, "the checkpointed backfill failed")
    with open(path) as f:
        text = f.read().replace("complete yes", "complete no")
    text = "\n".join(line.replace(line.split()[3], "99999999") if line.startswith("shard ") else line
                     for line in text.splitlines()) + "\n"
    with open(path, "w") as f:
        f.write(text)
    result = h.run("checkpoint-refused", argv, timeout_s=60)
    check(result.rc != 0 and "NOT written" in result.stderr and "written; start again" not in result.stderr,
          f"a refused checkpoint: exit {result.rc}, stderr: {result.stderr[-2000:]}")
    with open(path) as f:
        check(f.read() == text, "the refused checkpoint was rewritten")
    h.log("a refused checkpoint is left as it was")


def test(h):
    check_files_refused(h)
    check_checkpoints(h)
    daemon, sock = check_reloads_refused(h, "run.toml", "[generation]\nrate = 5000\n", [], ".toml")
    check_rates(h, daemon, sock)
    webaccess = os.path.join(harness.REPO_DIR, "test", "data", "original-configs", "webaccess.yaml")
    with open(webaccess) as f:
        check_reloads_refused(h, "run.yaml", f.read(), ["--live", "--rate", "3000"], ".yaml")


if __name__ == "__main__":
    harness.main(test)
