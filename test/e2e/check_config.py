#!/usr/bin/env python3
"""e2e.check_config: --check-config accepts the shipped example config and
refuses bad ones naming the file, line and key; the example config also
drives a real run; an https:// sink is refused before any connection is made
(TLS is not supported yet) with a message that says so; a file sink is
checked without its output file being created or truncated."""

import os
import re

import harness
from harness import check


def check_config(h, name, config_text=None, extra=()):
    argv = [h.bin("superventd"), "--check-config"]
    if config_text is not None:
        path = h.path(f"{name}.toml")
        with open(path, "w") as f:
            f.write(config_text)
        argv += ["--config", path]
    return h.run(name, argv + list(extra), timeout_s=30)


def expect_refused(h, name, config_text, line, key, words=()):
    result = check_config(h, name, config_text)
    path = h.path(f"{name}.toml")
    output = result.stdout + result.stderr
    check(result.rc != 0, f"{name}: --check-config accepted a bad config (exit 0):\n{config_text}\noutput:\n{output}")
    check(f"{path}:{line}" in output or (path in output and re.search(rf"\bline {line}\b", output)),
          f"{name}: the error does not name {path} line {line}:\n{output}")
    check(key in output, f"{name}: the error does not name the key {key!r}:\n{output}")
    for word in words:
        check(word in output, f"{name}: the error does not mention {word!r}:\n{output}")
    check("config OK" not in output, f"{name}: a refused config still printed 'config OK':\n{output}")
    h.log(f"{name}: refused with exit {result.rc}: {result.stderr.strip().splitlines()[0]}")


def test(h):
    example = os.path.join(harness.REPO_DIR, "config", "superventd.example.toml")
    check(os.path.exists(example), f"the example config {example} is missing")

    ok = h.run("check-example", [h.bin("superventd"), "--check-config", "--config", example], timeout_s=30)
    check(ok.rc == 0, f"--check-config rejects the shipped example (exit {ok.rc}):\n{ok.stdout}{ok.stderr}")
    check("config OK" in ok.stdout, f"--check-config printed no 'config OK' for the example:\n{ok.stdout}")
    check(re.search(r"^memory: +~\d+ MiB of buffers", ok.stdout, re.M) is not None,
          f"--check-config printed no memory line (docs/architecture.md, Memory):\n{ok.stdout}")

    # The example really drives the daemon; the command line overrides its sink.
    sink = h.start_sink(verify=True, report=True)
    run = h.run("run-example", [h.bin("superventd"), "--config", example, "--sink", sink.url, "--events", 5000,
                                "--socket", h.path("ctl.sock")], timeout_s=60)
    check(run.rc == 0, f"superventd --config <example> --events 5000 exited {run.rc}, expected 0")
    report = sink.stop()
    check(report["events"] == 5000 and report["invalid_events"] == 0,
          f"a run on the example config delivered {report['events']} events "
          f"({report['invalid_events']} invalid), expected 5000 valid")

    # Strict validation names file, line and key.
    expect_refused(h, "unknown-key", "[runtime]\nworkers = 1\nwokers = 2\n", 3, "wokers")
    expect_refused(h, "unknown-section", "[runtime]\nworkers = 1\n\n[bogus]\nx = 1\n", 4, "bogus")
    expect_refused(h, "wrong-type", "# a comment\n[runtime]\nworkers = \"two\"\n", 3, "workers")
    expect_refused(h, "out-of-range", "[runtime]\nbatch_events = 20000\n", 2, "batch_events")

    # A sink host that does not resolve is refused at once, naming the host
    # (https sinks are planned like http ones; TLS is tested in tls_*.py).
    for name, url in (("http-invalid", "http://example.invalid"), ("https-invalid", "https://example.invalid")):
        result = h.run(name, [h.bin("superventd"), "--check-config", "--sink", url, "--socket", h.path(f"{name}.sock")],
                       timeout_s=30)
        output = result.stdout + result.stderr
        check(result.rc != 0, f"{name}: --check-config accepted a host that does not resolve:\n{output}")
        check("example.invalid" in output, f"{name}: the refusal does not name the host:\n{output}")
        check("config OK" not in output, f"{name}: printed 'config OK' for a sink it cannot reach")
        check(result.elapsed_s < 10, f"{name}: the refusal took {result.elapsed_s:.1f} s (a network timeout?)")

    # A file sink is checked, never touched: an existing file keeps its
    # contents, a missing one is not created, one in a missing directory is refused.
    existing = h.path("kept.ndjson")
    with open(existing, "w") as f:
        f.write('{"kept":true}\n')
    missing = h.path("not-made.ndjson")
    for name, path in (("file-existing", existing), ("file-missing", missing)):
        result = h.run(name, [h.bin("superventd"), "--check-config", "--sink", f"file:{path}", "--events", 10],
                       timeout_s=30)
        check(result.rc == 0, f"{name}: --check-config refused a writable file sink:\n{result.stdout}{result.stderr}")
    with open(existing) as f:
        kept = f.read()
    check(kept == '{"kept":true}\n', f"--check-config changed the file sink's output file: {kept!r}")
    check(not os.path.exists(missing), f"--check-config created the file sink's output file {missing}")
    nowhere = h.path("no-such-dir/out.ndjson")
    result = h.run("file-nowhere", [h.bin("superventd"), "--check-config", "--sink", f"file:{nowhere}"], timeout_s=30)
    check(result.rc != 0 and "no-such-dir" in result.stderr,
          f"--check-config accepted a file sink in a missing directory:\n{result.stdout}{result.stderr}")

if __name__ == "__main__":
    harness.main(test)
