#!/usr/bin/env python3
"""e2e.incident_live: `supervent-ctl incident start NAME` changes the
attribute mix a receiver sees while traffic flows, and `incident stop`
returns it. A live run writes to a file sink; the test reads the events as
they land: about 5 % 5xx and latencies up to 100 ms before, about 30 % 5xx
and latencies x10 during the incident, the baseline again after it. Status
(JSON and text) and /metrics show the active incident, an unknown name is
refused naming the known ones, and `--for` ends the incident by itself."""

import json
import time
import urllib.request

import harness
from harness import check, ctl

CONFIG = """
[generation]
rate = 3000
[monitoring]
log_level = "info"

[sources.web]
dataset = "web"
[sources.web.fields.status]
type = "choice"
values = [200, 404, 500, 503]
weights = [90, 5, 3, 2]
[sources.web.fields.latency_ms]
type = "integer"
min = 10
max = 100
[[sources.web.event_types]]
name = "access"
message = "GET / {status} {latency_ms}ms"

[[scenario.incidents]]
name = "outage"
[[scenario.incidents.effects]]
source = "web"
field = "status"
percent = { "500" = 20, "503" = 10 }
[[scenario.incidents.effects]]
source = "web"
field = "latency_ms"
scale = 10

[[scenario.incidents]]
name = "quiet"
[[scenario.incidents.effects]]
source = "web"
silent = true
"""


class Reader:
    """The events appended to the sink's file since the last read."""

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def read(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1  # a line being written waits for the next read
        self.offset += end
        return [json.loads(line) for line in data[:end].splitlines() if line]


def mix(reader, seconds):
    """Reads for `seconds` (after skipping what landed before): 5xx share, max latency, events."""
    reader.read()
    time.sleep(seconds)
    events = reader.read()
    check(len(events) > 500, f"only {len(events)} events in {seconds} s")
    errors = sum(1 for e in events if str(e["attributes"]["status"]).startswith("5"))
    latency = max(int(e["attributes"]["latency_ms"]) for e in events)
    return errors / len(events), latency, len(events)


def metrics(url):
    with urllib.request.urlopen(url, timeout=10) as reply:
        text = reply.read().decode()
    return [line for line in text.splitlines() if line.startswith("supervent_incident_active")]


def test(h):
    sock = h.path("ctl.sock")
    config = h.path("scenario.toml")
    out = h.path("events.ndjson")
    with open(config, "w") as f:
        f.write(CONFIG)
    daemon = h.start("superventd", [h.bin("superventd"), "--config", config, "--sink", f"file:{out}", "--socket", sock,
                                    "--workers", 1, "--metrics-listen", "127.0.0.1:0"], timeout_s=60)
    status = harness.wait_running(h, daemon, sock)
    check(status["incident"] is None and status["incidents"] == ["outage", "quiet"], f"status before: {status}")
    check(metrics(status["metrics"]) == ['supervent_incident_active{name="outage"} 0',
                                         'supervent_incident_active{name="quiet"} 0'],
          f"/metrics before: {metrics(status['metrics'])}")
    reader = Reader(out)
    h.wait_for("events in the file", lambda: len(reader.read()) > 0, timeout_s=10)

    share, latency, n = mix(reader, 1.5)
    h.log(f"before: {n} events, 5xx {share:.3f}, latency max {latency}")
    check(0.02 < share < 0.09 and latency <= 100, f"baseline mix: 5xx {share:.3f}, latency max {latency}")

    # An unknown name: refused, naming the known ones; nothing changes.
    bad = ctl(h, "ctl-incident-unknown", sock, ["incident", "start", "nope"], expect_rc=1)
    check("unknown incident 'nope'" in bad["error"] and "outage" in bad["error"], f"unknown incident: {bad}")
    ctl(h, "ctl-incident-stop-none", sock, ["incident", "stop"], expect_rc=1)

    reply = ctl(h, "ctl-incident-start", sock, ["incident", "start", "outage"])
    check(reply["incident"]["name"] == "outage" and reply["incident"]["remaining_s"] is None, f"start reply: {reply}")
    time.sleep(0.3)  # batches made before the start are still landing
    share, latency, n = mix(reader, 1.5)
    h.log(f"during: {n} events, 5xx {share:.3f}, latency max {latency}")
    check(0.24 < share < 0.36 and latency > 100, f"incident mix: 5xx {share:.3f}, latency max {latency}")
    status = ctl(h, "ctl-status-during", sock, ["status"])
    check(status["incident"]["name"] == "outage", f"status during: {status['incident']}")
    check(metrics(status["metrics"]) == ['supervent_incident_active{name="outage"} 1',
                                         'supervent_incident_active{name="quiet"} 0'],
          f"/metrics during: {metrics(status['metrics'])}")
    table = ctl(h, "ctl-status-text", sock, ["status"], json_out=False).stdout
    check("incident     outage (" in table and "until stopped" in table, f"status table: {table}")

    stopped = ctl(h, "ctl-incident-stop", sock, ["incident", "stop", "outage"])
    check(stopped["stopped"] == "outage", f"stop reply: {stopped}")
    time.sleep(0.3)
    share, latency, n = mix(reader, 1.5)
    h.log(f"after: {n} events, 5xx {share:.3f}, latency max {latency}")
    check(0.02 < share < 0.09 and latency <= 100, f"mix after the stop: 5xx {share:.3f}, latency max {latency}")

    # --for: the incident ends by itself.
    timed = ctl(h, "ctl-incident-for", sock, ["incident", "start", "outage", "--for", "1s"])
    check(0 < timed["incident"]["remaining_s"] <= 1, f"timed start: {timed}")
    polls = iter(range(1000))
    h.wait_for("the timed incident to end",
               lambda: ctl(h, f"ctl-status-timed-{next(polls)}", sock, ["status"])["incident"] is None,
               timeout_s=5, interval_s=0.2)
    check("incident 'outage' ended (its time was up)" in daemon.stderr(), "the daemon did not log the timed end")

    # A silent source: nothing lands while it lasts (the only source: the
    # worker waits), and events flow again once it stops.
    ctl(h, "ctl-incident-quiet", sock, ["incident", "start", "quiet"])
    time.sleep(0.3)
    reader.read()
    time.sleep(1.0)
    quiet = len(reader.read())
    check(quiet == 0, f"{quiet} events landed while the only source was silent")
    ctl(h, "ctl-incident-quiet-stop", sock, ["incident", "stop"])
    h.wait_for("events after the silence", lambda: len(reader.read()) > 100, timeout_s=5, interval_s=0.1)

    ctl(h, "ctl-stop", sock, ["stop"])
    check(daemon.wait(30) == 0, f"superventd exited {daemon.poll()}")


if __name__ == "__main__":
    harness.main(test)
