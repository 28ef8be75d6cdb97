#!/usr/bin/env python3
"""e2e.nginx_peer: superventd against Debian's nginx, an HTTP/1.1 peer we did
not write: 200,000 events in batches of 1,000 are all acknowledged, and
nginx's access log shows exactly 200 POSTs to the ingest path, all 200."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time

import harness
from harness import check

NGINX = "/usr/sbin/nginx"
EVENTS = 200_000
BATCH = 1_000
WORKERS = 2
CONNECTIONS = 2
INGEST_PATH = "/v1/datasets/supervent/ingest"

# (directive, module) for every temp path nginx would otherwise put under
# /var/lib/nginx; a directive is only valid when its module is compiled in.
TEMP_PATHS = (("client_body_temp_path", None), ("proxy_temp_path", "proxy"), ("fastcgi_temp_path", "fastcgi"),
              ("uwsgi_temp_path", "uwsgi"), ("scgi_temp_path", "scgi"))


def nginx_config(h, port, build_info):
    lines = [
        "daemon off;",
        "master_process off;",
        "worker_processes 1;",
        f"error_log {h.path('nginx/error.log')} info;",
        f"pid {h.path('nginx/nginx.pid')};",
        "events { worker_connections 256; }",
        "http {",
        "  log_format ingest '$request_method $request_uri $status $request_length $content_length $connection';",
        f"  access_log {h.path('nginx/access.log')} ingest;",
    ]
    for directive, module in TEMP_PATHS:
        if module is None or f"--without-http_{module}_module" not in build_info:
            lines.append(f"  {directive} {h.path('nginx/' + directive.replace('_path', ''))};")
    lines += [
        "  client_max_body_size 64m;",
        "  keepalive_requests 100000;",
        "  default_type application/json;",
        "  server {",
        f"    listen 127.0.0.1:{port};",
        "    location / {",
        "      return 200 '{\"status\":\"ok\"}';",
        "    }",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def nginx_build_info():
    """`nginx -V`: the modules this nginx was built with."""
    return subprocess.run([NGINX, "-V"], capture_output=True, text=True, timeout=10).stderr


def start_nginx(h, config_for_port, attempts=3):
    """Starts nginx with config_for_port(port) as its config; returns (the
    process, its port). nginx cannot report the port it bound, so pick a free
    one; if another process takes it in between, try again with a new one."""
    for attempt in range(attempts):
        nginx, port = _start_nginx_once(h, config_for_port, attempt)
        if nginx is not None:
            return nginx, port
        h.log(f"nginx exited at start (port {port} taken?), retrying")
    raise harness.TestFailure(f"nginx would not start in {attempts} attempts; see its error log below")


def _start_nginx_once(h, config_for_port, attempt):
    os.makedirs(h.path("nginx"), exist_ok=True)
    port = harness.free_port()
    conf = h.path("nginx/nginx.conf")
    with open(conf, "w") as f:
        f.write(config_for_port(port))
    test = h.run(f"nginx-t{attempt}", [NGINX, "-t", "-p", h.path("nginx"), "-e", h.path("nginx/error.log"),
                                       "-c", conf], timeout_s=20)
    check(test.rc == 0, f"nginx -t rejects the test's config:\n{test.stderr}")
    nginx = h.start(f"nginx{attempt}", [NGINX, "-p", h.path("nginx"), "-e", h.path("nginx/error.log"), "-c", conf],
                    timeout_s=110)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not nginx.running():
            return None, port
        if listening(port):
            return nginx, port
        time.sleep(0.05)
    raise harness.TestFailure(f"nginx did not listen on 127.0.0.1:{port} within 10 s")


def test(h):
    check(os.access(NGINX, os.X_OK),
          f"{NGINX} is missing: this test needs Debian's nginx as an independent HTTP/1.1 peer. "
          f"Run scripts/install-deps.sh (it installs nginx-light).")
    build_info = nginx_build_info()
    nginx, port = start_nginx(h, lambda port: nginx_config(h, port, build_info))
    h.log(f"nginx listening on 127.0.0.1:{port}")

    daemon = h.run("superventd", [h.bin("superventd"), "--sink", f"http://127.0.0.1:{port}", "--events", EVENTS,
                                  "--batch-events", BATCH, "--workers", WORKERS, "--connections", CONNECTIONS,
                                  "--socket", h.path("ctl.sock")], timeout_s=90)
    summary = harness.parse_summary(daemon.stderr)
    h.log(f"daemon summary: {summary}")
    check(daemon.rc == 0, f"superventd exited {daemon.rc} against nginx, expected 0 (every event acknowledged)")
    check(summary == {"generated": EVENTS, "acked": EVENTS, "failed": 0, "in_flight": 0},
          f"daemon summary {summary} should be {EVENTS} generated = acked, 0 failed, 0 in flight")

    nginx.signal(signal.SIGQUIT)  # graceful: finish and flush the log
    nginx_rc = nginx.wait(timeout_s=15)
    check(nginx_rc == 0, f"nginx exited {nginx_rc} on SIGQUIT")
    with open(h.path("nginx/access.log")) as f:
        lines = f.read().splitlines()
    h.log(f"nginx access log: {len(lines)} lines; first: {lines[:1]}")
    pattern = re.compile(r"^(\S+) (\S+) (\d{3}) (\d+) (\S+) (\d+)$")
    posts = 0
    connections = set()
    for number, line in enumerate(lines, 1):
        match = pattern.match(line)
        check(match is not None, f"access log line {number} is not in the expected format: {line!r}")
        method, uri, status, _request_length, content_length, connection = match.groups()
        connections.add(connection)
        check(method == "POST" and uri == INGEST_PATH,
              f"access log line {number}: expected POST {INGEST_PATH}, got {method} {uri}")
        check(status == "200", f"access log line {number}: status {status}, expected 200: {line!r}")
        check(content_length.isdigit() and int(content_length) > 0,
              f"access log line {number}: no Content-Length body: {line!r}")
        posts += 1
    check(posts == EVENTS // BATCH,
          f"nginx logged {posts} POSTs to {INGEST_PATH}, expected exactly {EVENTS // BATCH} "
          f"({EVENTS} events in batches of {BATCH})")
    # Not asserted: how many connections carried the requests. nginx's
    # `return 200` answers before it has read the body, and superventd then
    # (deliberately) replaces the connection, so the count depends on load.
    h.log(f"{posts} POSTs over {len(connections)} connections")


def dump_nginx_logs(h):
    for name in ("error.log",):
        path = h.path(f"nginx/{name}")
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                print(f"---- nginx {name}:\n{f.read()[-8000:]}")


def main():
    def run(h):
        try:
            test(h)
        except BaseException:
            dump_nginx_logs(h)
            raise
    harness.main(run)


if __name__ == "__main__":
    main()
