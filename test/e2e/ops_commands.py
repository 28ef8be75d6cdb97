#!/usr/bin/env python3
"""e2e.ops_commands: every control command over the real socket against a
running daemon, while traffic flows: pause/resume, rate, set (live and
restart-only keys), reload with a valid and an invalid file (and SIGHUP),
sources (list, disable, enable), version, malformed requests, and a live
event limit that ends the run at exactly that count. At the end the sink
holds exactly what the daemon acknowledged: nothing lost or counted twice
across the reloads. (stop is covered by ops_metrics and ops_socket_safety.)"""

import json
import os
import signal
import socket
import time

import harness
from harness import check, ctl


def raw_request(path, line, timeout_s=5):
    """Sends one raw line on the control socket, returns the reply object."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        s.connect(path)
        s.sendall(line)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


TOKEN = "xaat-ops-commands-secret-5f3c9e"


def generated(h, sock, name):
    return ctl(h, name, sock, ["status"])["events_generated"]


def test(h):
    sink = h.start_sink(verify=True, report=True)
    sock = h.path("ctl.sock")
    config_a = h.path("a.toml")
    with open(config_a, "w") as f:
        f.write("[generation]\nrate = 4000\n[monitoring]\nlog_level = \"info\"\n")
    # --log-format journal: a pipe gets plain lines by default; the priorities are checked at the end.
    daemon = h.start("superventd", [h.bin("superventd"), "--config", config_a, "--sink", sink.url, "--socket", sock,
                                    "--workers", 2, "--log-format", "journal"], timeout_s=100,
                     env={"AXIOM_TOKEN": TOKEN})
    status = harness.wait_running(h, daemon, sock)
    check(status["rate_target"] == 4000, f"rate_target {status['rate_target']!r}, expected 4000 from the config")
    check([(s["name"], s["dataset"], s["enabled"]) for s in status["sources"]] == [("web_access", "supervent", True)],
          f"sources in status: {status['sources']}")

    # version
    version = ctl(h, "ctl-version", sock, ["version"])
    check(version["ok"] is True and version["version"], f"version reply: {version}")

    # pause: generation stops (batches in flight settle), resume: it goes on.
    time.sleep(0.5)
    paused = ctl(h, "ctl-pause", sock, ["pause"])
    check(paused == {"ok": True, "state": "paused"}, f"pause reply: {paused}")
    time.sleep(0.4)  # anything already granted is generated within a loop turn
    first = generated(h, sock, "ctl-status-paused-1")
    time.sleep(1.0)
    second = ctl(h, "ctl-status-paused-2", sock, ["status"])
    check(second["state"] == "paused", f"state while paused: {second['state']}")
    check(second["events_generated"] == first,
          f"paused, yet events_generated went from {first} to {second['events_generated']}")
    resumed = ctl(h, "ctl-resume", sock, ["resume"])
    check(resumed == {"ok": True, "state": "running"}, f"resume reply: {resumed}")
    h.wait_for("generation to resume", lambda: generated(h, sock, f"ctl-status-resumed-{time.monotonic()}") > first,
               timeout_s=5, interval_s=0.2)

    # rate N: status reports it and the actual rate follows.
    reply = ctl(h, "ctl-rate", sock, ["rate", "10000"])
    check(reply["ok"] and reply["rate_target"] == 10000 and reply["workers"] == 2, f"rate reply: {reply}")
    time.sleep(2.0)
    status = ctl(h, "ctl-status-rate", sock, ["status"])
    check(status["rate_target"] == 10000, f"rate_target after rate 10000: {status['rate_target']!r}")
    check(abs(status["rate_actual"] - 10000) <= 2500, f"rate_actual {status['rate_actual']} not near 10000")
    ctl(h, "ctl-rate-bad", sock, ["rate", "fast"], expect_rc=1, json_out=False)
    reply = ctl(h, "ctl-rate-bad-json", sock, ["rate", "-5"], expect_rc=1)
    check(reply["ok"] is False and "rate" in reply["error"], f"rate -5 reply: {reply}")

    # set: live keys change, restart-only keys are refused by name.
    reply = ctl(h, "ctl-set-rate", sock, ["set", "rate", "6000"])
    check(reply == {"ok": True, "key": "generation.rate", "changed": True}, f"set rate reply: {reply}")
    check(ctl(h, "ctl-status-set", sock, ["status"])["rate_target"] == 6000, "set rate 6000 did not change rate_target")
    reply = ctl(h, "ctl-set-level", sock, ["set", "monitoring.log_level", "debug"])
    check(reply["ok"] and reply["changed"], f"set log_level reply: {reply}")
    reply = ctl(h, "ctl-set-workers", sock, ["set", "workers", "8"], expect_rc=1)
    check("runtime.workers" in reply["error"] and "restart" in reply["error"], f"set workers reply: {reply}")
    reply = ctl(h, "ctl-set-unknown", sock, ["set", "wokers", "8"], expect_rc=1)
    check("unknown setting 'wokers'" in reply["error"], f"set wokers reply: {reply}")
    reply = ctl(h, "ctl-set-badvalue", sock, ["set", "rate", "soon"], expect_rc=1)
    check("generation.rate" in reply["error"] and "soon" in reply["error"], f"set rate soon reply: {reply}")

    # reload with an invalid file: refused with the loader's error, nothing changes.
    bad = h.path("bad.toml")
    with open(bad, "w") as f:
        f.write("[generation]\nrate = 9000\nrat = 3\n")
    before = ctl(h, "ctl-status-before-bad", sock, ["status"])
    reply = ctl(h, "ctl-reload-bad", sock, ["reload", bad], expect_rc=1)
    check("bad.toml:3: generation.rat: unknown key" in reply["error"] and "nothing changed" in reply["error"],
          f"reload of an invalid file: {reply}")
    after = ctl(h, "ctl-status-after-bad", sock, ["status"])
    check(after["rate_target"] == before["rate_target"] == 6000 and after["reloads"] == before["reloads"],
          f"an invalid reload changed something: before {before['rate_target']}/{before['reloads']}, "
          f"after {after['rate_target']}/{after['reloads']}")
    check(after["state"] == "running", f"state after a refused reload: {after['state']}")

    # reload with a valid file: live keys applied, restart-only keys named.
    good = h.path("good.toml")
    with open(good, "w") as f:
        f.write("[generation]\nrate = 3000\nseed = 42\n[network]\nconnections = 3\n[sink]\ncompression = \"zstd\"\n")
    reply = ctl(h, "ctl-reload-good", sock, ["reload", good])
    check(reply["ok"] and reply["config"] == good, f"reload reply: {reply}")
    check("generation.rate" in reply["changed"], f"reload did not report the rate change: {reply}")
    check("monitoring.log_level" in reply["changed"], f"reload did not put log_level back to info: {reply}")
    check(set(reply["restart_needed"]) == {"generation.seed", "network.connections", "sink.compression"},
          f"restart_needed should be seed, connections and compression: {reply}")
    status = ctl(h, "ctl-status-reloaded", sock, ["status"])
    check(status["rate_target"] == 3000 and status["reloads"] == 1 and status["config"] == good,
          f"after reload: rate_target {status['rate_target']}, reloads {status['reloads']}, config {status['config']}")

    # SIGHUP reloads the --config file (rate 4000), not the last one reloaded.
    daemon.signal(signal.SIGHUP)
    h.wait_for("SIGHUP to reload a.toml",
               lambda: ctl(h, f"ctl-status-hup-{time.monotonic()}", sock, ["status"])["reloads"] == 2, timeout_s=5)
    status = ctl(h, "ctl-status-hup", sock, ["status"])
    check(status["rate_target"] == 4000, f"after SIGHUP rate_target is {status['rate_target']}, expected 4000")
    check("reloaded" in daemon.stderr() and "SIGHUP" in daemon.stderr(), "the daemon did not log the SIGHUP reload")

    # sources: list, disable (generation stops), enable.
    reply = ctl(h, "ctl-sources", sock, ["sources"])
    check([(s["name"], s["enabled"]) for s in reply["sources"]] == [("web_access", True)], f"sources: {reply}")
    reply = ctl(h, "ctl-sources-disable", sock, ["sources", "disable", "web_access"])
    check(reply["sources"][0]["enabled"] is False, f"disable reply: {reply}")
    time.sleep(0.4)
    first = generated(h, sock, "ctl-status-disabled-1")
    time.sleep(1.0)
    check(generated(h, sock, "ctl-status-disabled-2") == first, "the disabled source kept generating")
    reply = ctl(h, "ctl-sources-unknown", sock, ["sources", "enable", "nginx"], expect_rc=1)
    check("no source named 'nginx'" in reply["error"], f"unknown source reply: {reply}")
    ctl(h, "ctl-sources-enable", sock, ["sources", "enable", "web_access"])
    h.wait_for("the enabled source to generate", lambda: generated(h, sock, f"ctl-st-en-{time.monotonic()}") > first,
               timeout_s=5, interval_s=0.2)
    table = ctl(h, "ctl-sources-table", sock, ["sources"], json_out=False)
    check("web_access" in table.stdout and "yes" in table.stdout, f"sources table: {table.stdout!r}")

    # Malformed and oversized requests get errors; the daemon carries on.
    check(raw_request(sock, b"not json\n")["ok"] is False, "malformed line not refused")
    check("no \"cmd\"" in raw_request(sock, b"{\"command\":\"status\"}\n")["error"], "missing cmd not explained")
    check("unknown command 'frob'" in raw_request(sock, b"{\"cmd\":\"frob\"}\n")["error"], "unknown cmd not named")
    reply = raw_request(sock, b"{\"cmd\":\"status\",\"pad\":\"" + b"x" * 70000 + b"\"}\n")
    check(reply["ok"] is False and "too long" in reply["error"], f"oversized request: {reply}")
    check(raw_request(sock, b"{\"cmd\":\"status\"}\n")["state"] == "running", "daemon not running after bad requests")

    # A live event limit ends the run at exactly that many events: the rest
    # of the limit is split over the shards on top of what each generated.
    ctl(h, "ctl-rate-fast", sock, ["rate", "10000"])
    limit = generated(h, sock, "ctl-status-before-limit") + 20000
    reply = ctl(h, "ctl-set-events", sock, ["set", "events", str(limit)])
    check(reply["changed"] is True, f"set events reply: {reply}")
    check(ctl(h, "ctl-status-limit", sock, ["status"])["events_target"] == limit, "events_target not the new limit")
    rc = daemon.wait(timeout_s=30)
    check(rc == 0, f"superventd exited {rc} after reaching its live event limit")
    summary = harness.require_summary(daemon.stderr())
    check(summary["failed"] == 0 and summary["in_flight"] == 0 and summary["generated"] == summary["acked"],
          f"events lost around the reloads: {summary}")
    check(summary["generated"] == limit, f"the run generated {summary['generated']} events, the live limit was {limit}")
    stats = sink.stats()
    check(stats["events"] == summary["acked"],
          f"the sink's /stats counted {stats['events']} events, the daemon acknowledged {summary['acked']}")
    report = sink.stop()
    check(report["events"] == summary["acked"],
          f"the sink counted {report['events']} events, the daemon acknowledged {summary['acked']}")
    check(report["invalid_events"] == 0, f"{report['invalid_events']} invalid events")
    # The token never shows: not in the log, not in any reply.
    replies = "".join(open(os.path.join(h.dir, f)).read() for f in os.listdir(h.dir) if f.startswith("ctl-"))
    check(TOKEN not in daemon.stderr() and TOKEN not in replies, "the token appeared in the log or a reply")
    check("sink.token" not in replies, "a reload reported the token as changed although it did not change")
    # Priorities for journald on every line (--log-format journal).
    for line in daemon.stderr().splitlines():
        check(line[:3] in ("<3>", "<4>", "<5>", "<6>", "<7>"), f"a log line without a syslog priority: {line!r}")


if __name__ == "__main__":
    harness.main(test)
