"""Shared pieces of the HTTP log API preset tests (api_presets.py,
api_restart.py): api_receiver.py started on loopback as a child (and again
on the same port), and superventd pointed at it with API+http://."""

import os
import sys

import harness
from harness import check

RECEIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api_receiver.py")
TOKEN = "supervent-test-token-0123456789"


class ApiReceiver:
    def __init__(self, h, api, name, args=(), port=0):
        self.h = h
        self.api = api
        self.name = name
        self.port_file = h.path(f"{name}.port")
        self.report_file = h.path(f"{name}.report.json")
        argv = [sys.executable, RECEIVER, "--api", api, "--port", str(port), "--port-file", self.port_file,
                "--report", self.report_file, "--token", TOKEN] + list(args)
        self.process = h.start(name, argv, timeout_s=110)
        self.port = h.wait_for_port_file(self.port_file, self.process)

    def stop(self):
        import json
        import signal
        self.process.signal(signal.SIGTERM)
        rc = self.process.wait(timeout_s=20)
        check(rc == 0, f"{self.name} exited {rc}")
        with open(self.report_file) as f:
            report = json.load(f)
        self.h.log(f"{self.name} report: { {k: v for k, v in report.items() if k not in ('samples', 'records')} }")
        check(report["invalid_requests"] == 0,
              f"{self.name}: {report['invalid_requests']} requests broke the {self.api} format: {report['first_invalid']}")
        return report


def token_file(h):
    path = h.path("token")
    with open(path, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(path, 0o600)
    return path


def sink_url(api, port, query=""):
    return f"{api}+http://127.0.0.1:{port}" + (f"?{query}" if query else "")


def run_daemon(h, name, url, args, timeout_s=60):
    result = h.run(name, [h.bin("superventd"), "--sink", url, "--token-file", token_file(h),
                          "--socket", h.path(f"{name}.sock")] + list(args),
                   timeout_s=timeout_s)
    summary = harness.require_summary(result.stderr)
    h.log(f"{name}: {summary}")
    return result, summary
