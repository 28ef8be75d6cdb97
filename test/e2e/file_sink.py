#!/usr/bin/env python3
"""e2e.file_sink: --sink file:PATH writes exactly --events NDJSON lines in the
shape of DESIGN.md section 4, the same seed gives the same events, and
--sink stdout: puts nothing but those lines on standard output."""

import datetime
import hashlib
import json
import re

import harness
from harness import check

EVENTS = 12_345
KEYS = ("_time", "source", "event_type", "message", "attributes")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
# The timestamp inside an Apache combined log line: [27/Nov/2026:11:53:14 +0000]
CLF_TIME = re.compile(r"\[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]")


_parsed_times = {}


def parse_time(text):
    """datetime for an RFC 3339 string, or None (cached: batches share times)."""
    if text not in _parsed_times:
        _parsed_times[text] = _parse_time(text)
    return _parsed_times[text]


def _parse_time(text):
    match = RFC3339.match(text)
    if match is None:
        return None
    # datetime takes microseconds: cut the fraction to 6 digits.
    base, _, rest = text.partition(".")
    if rest:
        digits = re.match(r"\d+", rest).group(0)
        text = base + "." + digits[:6].ljust(6, "0") + rest[len(digits):]
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def check_events(lines, where):
    """Every line one event of the documented shape; returns the parsed events."""
    events = []
    now = datetime.datetime.now(datetime.timezone.utc)
    for number, line in enumerate(lines, 1):
        try:
            event = json.loads(line)
        except ValueError as error:
            raise harness.TestFailure(f"{where} line {number} is not valid JSON ({error}): {line[:300]!r}")
        check(isinstance(event, dict), f"{where} line {number} is not a JSON object: {line[:300]!r}")
        for key in KEYS:
            check(key in event, f"{where} line {number} lacks '{key}': {line[:300]!r}")
        check(isinstance(event["attributes"], dict), f"{where} line {number}: attributes is not an object")
        request_id = event["attributes"].get("request_id")
        check(isinstance(request_id, str) and request_id,
              f"{where} line {number}: attributes.request_id missing or empty: {line[:300]!r}")
        for key in ("source", "event_type", "message"):
            check(isinstance(event[key], str) and event[key], f"{where} line {number}: {key} is not a non-empty string")
        when = parse_time(event["_time"]) if isinstance(event["_time"], str) else None
        check(when is not None, f"{where} line {number}: _time {event['_time']!r} is not RFC 3339")
        check(abs((when - now).total_seconds()) < 86400,
              f"{where} line {number}: _time {event['_time']} is not within a day of now ({now.isoformat()}) "
              f"in a live run")
        events.append(event)
    return events


def read_lines(path, where):
    with open(path, "rb") as f:
        data = f.read()
    check(data.endswith(b"\n"), f"{where} does not end with a newline (a torn last line?)")
    lines = data.decode("utf-8").split("\n")[:-1]
    check(all(lines), f"{where} has empty lines")
    return lines


def fingerprint(events):
    """The events without their wall-clock times, in a canonical order: what
    a seed must reproduce (several workers append to the file in any order)."""
    canonical = []
    for event in events:
        timeless = dict(event)
        del timeless["_time"]
        timeless["message"] = CLF_TIME.sub("[TIME]", event["message"])
        canonical.append(json.dumps(timeless, sort_keys=True))
    return hashlib.sha256("\n".join(sorted(canonical)).encode()).hexdigest()


def file_run(h, tag, seed):
    path = h.path(f"events-{tag}.ndjson")
    daemon = h.run(f"superventd-{tag}", [h.bin("superventd"), "--sink", f"file:{path}", "--events", EVENTS,
                                         "--seed", seed, "--socket", h.path(f"ctl-{tag}.sock")], timeout_s=60)
    check(daemon.rc == 0, f"superventd --sink file: exited {daemon.rc}, expected 0")
    summary = harness.require_summary(daemon.stderr)
    check(summary == {"generated": EVENTS, "acked": EVENTS, "failed": 0, "in_flight": 0},
          f"file sink summary {summary}: expected all {EVENTS} written")
    lines = read_lines(path, path)
    check(len(lines) == EVENTS, f"{path} has {len(lines)} lines, expected exactly {EVENTS}")
    return check_events(lines, path)


def test(h):
    events = file_run(h, "seed7", 7)
    h.log(f"{EVENTS} valid events in the file; first: {json.dumps(events[0])[:200]}")

    # Determinism: the same seed, the same events; another seed, others.
    again = file_run(h, "seed7-again", 7)
    check(fingerprint(events) == fingerprint(again), "two runs with --seed 7 produced different events")
    other = file_run(h, "seed8", 8)
    check(fingerprint(events) != fingerprint(other), "--seed 7 and --seed 8 produced the same events")

    # stdout: exactly the events, the diagnostics on stderr.
    out = h.run("superventd-stdout", [h.bin("superventd"), "--sink", "stdout:", "--events", 10,
                                      "--socket", h.path("ctl-stdout.sock")], timeout_s=30)
    check(out.rc == 0, f"superventd --sink stdout: exited {out.rc}, expected 0")
    check(out.stdout.endswith("\n"), "stdout does not end with a newline")
    lines = out.stdout.split("\n")[:-1]
    check(len(lines) == 10, f"--sink stdout: --events 10 printed {len(lines)} lines, expected 10:\n{out.stdout[:2000]}")
    check_events(lines, "stdout")
    summary = harness.require_summary(out.stderr)
    check(summary == {"generated": 10, "acked": 10, "failed": 0, "in_flight": 0}, f"stdout summary {summary}")


if __name__ == "__main__":
    harness.main(test)
