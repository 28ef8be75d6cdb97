#!/usr/bin/env python3
"""e2e.levels_agree (issue 18, "message and attributes always agree"): over
about 100,000 events of each original YAML file, no log level contradicts
the text beside it (core/level_agreement.hpp draws the level given that text).

The contradiction check, stated here on its own word lists (not the
engine's), so the test can catch the engine out:
- an event's level is its attribute named level / severity / log_level /
  error_level (any depth), else a level word standing alone in its message
  (DEBUG, INFO, WARN, WARNING, ERROR, CRITICAL, FATAL; any case);
- its text is the message with that level word taken out, plus the string
  attributes named message, msg, outcome, result, reason or displayMessage;
- it is a contradiction when the level is WARN or worse and the text says
  success (success, successful, successfully, succeeded, completed, created,
  ok) without any failure word, or the level is INFO or DEBUG and the text
  has a failure word (error, failed, failure, fail, denied, timeout,
  refused, exception, fatal, invalid, deadlock, unauthorized, forbidden,
  crash, rejected).
The test also requires that the rule had something to judge: some events
with a success text and some with a failure text.
"""

import collections
import json
import re

import harness
from harness import check
import scenario_common as sc

EVENTS_PER_FILE = 100_000
LEVEL_KEYS = {"level", "severity", "log_level", "error_level"}
TEXT_KEYS = {"message", "msg", "outcome", "result", "reason", "displaymessage"}
LOW = {"debug", "trace", "info"}
HIGH = {"warn", "warning", "error", "critical", "fatal"}
LEVEL_WORD = re.compile(r"(?<![\w.])(debug|trace|info|warn|warning|error|critical|fatal)(?![\w.])", re.IGNORECASE)
SUCCESS = {"success", "successful", "successfully", "succeeded", "completed", "created", "ok"}
FAILURE = {"error", "failed", "failure", "fail", "denied", "timeout", "refused", "exception", "fatal", "invalid",
           "deadlock", "unauthorized", "forbidden", "crash", "rejected"}


def words(text):
    # Whole words only: a random id's "…A1OK" is not "ok".
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w.isalpha()}


def level_and_text(event):
    flat = sc.flatten(event["attributes"])
    level = next((str(v) for k, v in flat.items() if k.rpartition(".")[2].lower() in LEVEL_KEYS), None)
    message = event.get("message", "")
    if level is None:
        m = LEVEL_WORD.search(message)
        if m is None:
            return None, None
        level = m.group(1)
        message = message[:m.start()] + message[m.end():]
    else:
        message = re.sub(r"(?<![\w.])" + re.escape(level) + r"(?![\w.])", " ", message, count=1)
    extra = [v for k, v in flat.items() if isinstance(v, str) and k.rpartition(".")[2].lower() in TEXT_KEYS]
    return level.lower(), " ".join([message] + extra)


def scale_for(scn):
    roots = sum(s.scaled_roots(1) for s in scn.sources.values())
    # Each dependency rule adds at most one event per trigger; without rules
    # the roots are the events.
    return max(1e-6, EVENTS_PER_FILE / (roots * (1 + len(scn.rules))))


def check_file(h, name, totals):
    scn = sc.Scenario(name)
    tag = name.removesuffix(".yaml")
    out, _, _ = sc.run_file(h, name, f"levels-{tag}", scale=f"{scale_for(scn):.6g}")
    with open(out, encoding="utf-8") as f:
        events = [json.loads(line) for line in f]
    counts = collections.Counter()
    for number, event in enumerate(events, 1):
        level, text = level_and_text(event)
        if level is None:
            continue
        w = words(text)
        failure, success = bool(w & FAILURE), bool(w & SUCCESS) and not (w & FAILURE)
        where = f"[{tag}] line {number}"
        check(not (level in HIGH and success), f"{where}: level {level.upper()} beside a success: {event['message'][:200]!r}")
        check(not (level in LOW and failure), f"{where}: level {level.upper()} beside a failure: {event['message'][:200]!r}")
        counts["levelled"] += 1
        counts["success"] += success
        counts["failure"] += failure
    h.log(f"{name}: {len(events)} events, {dict(counts)}")
    totals.update(counts)


def test(h):
    totals = collections.Counter()
    for name in sc.valid_files():
        check_file(h, name, totals)
    check(totals["success"] > 0 and totals["failure"] > 0,
          f"the rule judged no success or no failure text ({dict(totals)}): the test would prove nothing")


if __name__ == "__main__":
    harness.main(test)
