#!/usr/bin/env python3
"""e2e.tls_nginx: superventd over HTTPS to Debian's nginx, a TLS peer we did
not write. nginx serves a certificate from a throwaway CA on loopback;
`superventd --sink https://localhost:PORT --ca-file ca.pem --events N`
must end with all N acknowledged, and nginx's access log must show exactly
N / batch POSTs to the ingest path, all 200 and all over TLS."""

import os
import re
import signal

import harness
import nginx_peer
import tls_common
from harness import check

NGINX = nginx_peer.NGINX
EVENTS = 200_000
BATCH = 1_000
INGEST_PATH = "/v1/datasets/supervent/ingest"


def nginx_config(h, port, pki, build_info):
    lines = [
        "daemon off;",
        "master_process off;",
        "worker_processes 1;",
        f"error_log {h.path('nginx/error.log')} info;",
        f"pid {h.path('nginx/nginx.pid')};",
        "events { worker_connections 256; }",
        "http {",
        "  log_format ingest '$request_method $request_uri $status $content_length $ssl_protocol $https';",
        f"  access_log {h.path('nginx/access.log')} ingest;",
    ]
    for directive, module in nginx_peer.TEMP_PATHS:
        if module is None or f"--without-http_{module}_module" not in build_info:
            lines.append(f"  {directive} {h.path('nginx/' + directive.replace('_path', ''))};")
    lines += [
        "  client_max_body_size 64m;",
        "  keepalive_requests 100000;",
        "  default_type application/json;",
        "  server {",
        f"    listen 127.0.0.1:{port} ssl;",
        f"    ssl_certificate {os.path.join(pki, 'server.pem')};",
        f"    ssl_certificate_key {os.path.join(pki, 'server.key')};",
        "    ssl_protocols TLSv1.2 TLSv1.3;",
        "    location / {",
        "      return 200 '{\"status\":\"ok\"}';",
        "    }",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def test(h):
    check(os.access(NGINX, os.X_OK), f"{NGINX} is missing: run scripts/install-deps.sh (it installs nginx-light)")
    pki = tls_common.make_pki(h)
    build_info = nginx_peer.nginx_build_info()
    check("--with-http_ssl_module" in build_info, "this nginx has no http_ssl_module; install nginx-light (Debian)")
    nginx, port = nginx_peer.start_nginx(h, lambda port: nginx_config(h, port, pki, build_info))
    h.log(f"nginx serving HTTPS on 127.0.0.1:{port}")

    daemon = h.run("superventd", [h.bin("superventd"), "--sink", f"https://localhost:{port}",
                                  "--ca-file", os.path.join(pki, "ca.pem"), "--events", EVENTS,
                                  "--batch-events", BATCH, "--workers", 2, "--connections", 2,
                                  "--socket", h.path("ctl.sock")], timeout_s=90)
    summary = harness.parse_summary(daemon.stderr)
    h.log(f"daemon summary: {summary}")
    check(daemon.rc == 0, f"superventd exited {daemon.rc} against nginx over TLS, expected 0:\n{daemon.stderr[-3000:]}")
    check(summary == {"generated": EVENTS, "acked": EVENTS, "failed": 0, "in_flight": 0},
          f"daemon summary {summary} should be {EVENTS} generated = acked, 0 failed, 0 in flight")

    nginx.signal(signal.SIGQUIT)  # graceful: finish and flush the log
    check(nginx.wait(timeout_s=15) == 0, "nginx did not exit 0 on SIGQUIT")
    with open(h.path("nginx/access.log")) as f:
        lines = f.read().splitlines()
    pattern = re.compile(r"^(\S+) (\S+) (\d{3}) (\S+) (\S+) (\S+)$")
    protocols = set()
    for number, line in enumerate(lines, 1):
        match = pattern.match(line)
        check(match is not None, f"access log line {number} is not in the expected format: {line!r}")
        method, uri, status, content_length, protocol, https = match.groups()
        check(method == "POST" and uri == INGEST_PATH, f"line {number}: expected POST {INGEST_PATH}: {line!r}")
        check(status == "200", f"line {number}: status {status}, expected 200: {line!r}")
        check(content_length.isdigit() and int(content_length) > 0, f"line {number}: no body: {line!r}")
        check(https == "on", f"line {number}: the request did not come over TLS: {line!r}")
        protocols.add(protocol)
    check(len(lines) == EVENTS // BATCH,
          f"nginx logged {len(lines)} POSTs, expected exactly {EVENTS // BATCH} ({EVENTS} events in batches of {BATCH})")
    h.log(f"{len(lines)} POSTs over TLS ({', '.join(sorted(protocols))})")


def main():
    def run(h):
        try:
            test(h)
        except BaseException:
            nginx_peer.dump_nginx_logs(h)
            raise
    harness.main(run)


if __name__ == "__main__":
    main()
