#!/usr/bin/env python3
"""e2e.dashboard_browser: the live dashboard in a real browser. superventd
ships to a supervent-sink that rejects 15 % of requests (400) and fails 10 %
(503, retried); headless Chromium (Debian's `chromium`) opens the page that
`supervent-ctl dashboard` names, driven over the DevTools protocol with
Debian's python3-websocket. Checked: /healthz is 200 while running; the page
polls; every counter it shows lies between /api/status taken before and after
reading it, and equals /api/status exactly once the run is paused and
settled; the rate chart has points; failures are shown by reason; a control
action without the token is refused (403) and changes nothing. The
screenshot is kept as dashboard_browser.png in the working directory (the
build's test/e2e) for a person to look at."""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import websocket  # Debian's python3-websocket

import harness
from harness import check, ctl

COUNTERS = ("events_generated", "events_acked", "events_failed", "requests_retried")
SCREENSHOT = os.path.join(os.getcwd(), "dashboard_browser.png")


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Browser:
    """Headless Chromium on the page, and one DevTools session with it."""

    def __init__(self, h, url):
        chromium = shutil.which("chromium")
        check(chromium is not None, "chromium is not installed (scripts/install-deps.sh installs it)")
        self.profile = tempfile.mkdtemp(prefix="supervent-chromium-")
        self.process = h.start("chromium", [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + self.profile,
            "--remote-debugging-port=0", "--remote-allow-origins=*", "--window-size=1400,2000", url], timeout_s=100)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        h.wait_for("chromium's DevToolsActivePort", lambda: os.path.exists(port_file)
                   and len(open(port_file).read().split()) >= 2, timeout_s=30)
        port = int(open(port_file).read().split()[0])
        pages = []
        h.wait_for("the page target", lambda: bool(pages.extend(
            t for t in json.loads(http_get(f"http://127.0.0.1:{port}/json")[1]) if t["type"] == "page") or pages),
            timeout_s=15)
        self.socket = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=20, suppress_origin=True)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                check("error" not in message, f"DevTools {method}: {message.get('error')}")
                return message["result"]

    def eval(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        check("exceptionDetails" not in result, f"page threw on {expression!r}: {result.get('exceptionDetails')}")
        return result["result"].get("value")

    def polls(self):
        """How many status polls the page has rendered (0 while it still loads)."""
        return self.eval("Number((document.body && document.body.dataset.polls) || 0)")

    def shown(self):
        """What the page shows: the exact counters, polls, chart points, failures."""
        return self.eval("""JSON.stringify({
            counters: Object.fromEntries(%s.map(k => [k, Number(document.getElementById(k).dataset.value)])),
            polls: Number(document.body.dataset.polls || 0),
            rate_points: Number(document.getElementById('chart_rate').dataset.points || 0),
            reasons: JSON.parse(document.getElementById('failed_by_reason').dataset.reasons || '{}'),
            state: document.getElementById('state').textContent})""" % json.dumps(list(COUNTERS)))

    def close(self, h):
        try:
            self.call("Browser.close")
        except Exception:  # already gone: the kill below is what matters
            pass
        self.socket.close()
        self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def status(base):
    code, body = http_get(base + "api/status")
    check(code == 200, f"/api/status answered {code}")
    return json.loads(body)


def check_between(h, browser, base):
    """The page's counters lie between /api/status before its last poll and after reading it."""
    before = status(base)
    time.sleep(1.3)  # the page polls once a second: its numbers are newer than `before`
    seen = json.loads(browser.shown())
    after = status(base)
    for key in COUNTERS:
        check(before[key] <= seen["counters"][key] <= after[key],
              f"page shows {key}={seen['counters'][key]}, status said {before[key]} before and {after[key]} after")
    return seen


def check_control_refused(h, browser, base):
    browser.eval("document.getElementById('pause').click()")
    h.wait_for("the page's answer to Pause", lambda: browser.eval(
        "document.getElementById('control_result').dataset.status || ''") != "", timeout_s=5)
    answer = browser.eval("document.getElementById('control_result').dataset.status + ' ' + "
                          "document.getElementById('control_result').textContent")
    h.log(f"Pause without a token: {answer}")
    check(answer.startswith("403 "), f"a control action without the token was not refused: {answer}")
    check(not status(base)["paused"], "the daemon paused on a refused control action")


def test(h):
    sink = h.start_sink(verify=False, extra_args=["--faults", "status=400@15%,status=503@10%"])
    sock = h.path("ctl.sock")
    daemon = h.start("superventd", [h.bin("superventd"), "--sink", sink.url, "--rate", "20000", "--workers", "2",
                                    "--metrics-listen", "127.0.0.1:0", "--socket", sock], timeout_s=100)
    h.wait_for("the control socket", lambda: os.path.exists(sock), timeout_s=10)
    result = h.run("ctl-dashboard", [h.bin("supervent-ctl"), "--socket", sock, "dashboard"])
    check(result.rc == 0, f"supervent-ctl dashboard exited {result.rc}: {result.stderr}")
    base = result.stdout.strip()
    check(base.startswith("http://127.0.0.1:") and base.endswith("/"), f"dashboard URL {base!r}")
    h.wait_for("/healthz 200", lambda: http_get(base + "healthz")[0] == 200, timeout_s=10)
    code, page = http_get(base)
    check(code == 200 and b"/dashboard.js" in page and len(page) < 300 * 1024, f"GET / answered {code}")

    browser = Browser(h, base)
    try:
        h.wait_for("four polls", lambda: browser.polls() >= 4, timeout_s=20, interval_s=0.2)
        seen = check_between(h, browser, base)
        check(seen["rate_points"] >= 3, f"the rate chart has {seen['rate_points']} points")
        check_control_refused(h, browser, base)

        ctl(h, "ctl-pause", sock, ["pause"])
        h.wait_for("the run to settle", lambda: status(base)["events_in_flight"] == 0, timeout_s=20)
        time.sleep(2.5)  # two polls after the last change
        seen, now = json.loads(browser.shown()), status(base)
        for key in COUNTERS:
            check(seen["counters"][key] == now[key], f"paused: page shows {key}={seen['counters'][key]}, status {now[key]}")
        check(seen["reasons"] == now["events_failed_by_reason"] and seen["reasons"].get("rejected", 0) > 0,
              f"failures by reason: page {seen['reasons']}, status {now['events_failed_by_reason']}")
        check(seen["state"] == "paused", f"the page shows state {seen['state']!r}")
        h.log(f"page agrees with status: {seen}")
        ctl(h, "ctl-resume", sock, ["resume"])
        time.sleep(3)  # the chart picks up again for the screenshot
        shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(SCREENSHOT, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        h.log(f"screenshot: {SCREENSHOT}")
    finally:
        browser.close(h)
    ctl(h, "ctl-stop", sock, ["stop"], timeout_s=40)
    rc = daemon.wait(timeout_s=40)
    check(rc in (0, 1), f"superventd exited {rc}")  # 1: events failed, as the faults make them


if __name__ == "__main__":
    harness.main(test)
