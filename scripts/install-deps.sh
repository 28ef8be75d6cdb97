#!/usr/bin/env bash
# Installs, with apt-get, whatever of supervent's build and test dependencies
# this Debian 12 machine lacks. Does nothing (and needs no root) when all are there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  liburing-dev libboost-dev libsimdjson-dev libzstd-dev libtomlplusplus-dev openssl ca-certificates
  libyaml-cpp-dev libssl-dev libsystemd-dev zlib1g-dev catch2
  # postgresql:// sinks link libpq; their tests and scripts/bench_postgres.py start a real server (initdb, pg_ctl)
  libpq-dev postgresql
  # the libFuzzer targets (scripts/fuzz.sh): clang with its fuzzer and sanitizer runtimes
  clang-14 libclang-rt-14-dev llvm-14
  # test peers and tools
  nginx-light curl jq zstd python3 python3-yaml iperf3 wrk python3-prometheus-client systemd util-linux dpkg-dev
  # e2e.api_otlp_protobuf decodes OTLP protobuf bodies with protoc (test/e2e/otlp_logs.proto)
  protobuf-compiler
  # e2e.ops_package runs lintian on the .deb (prometheus's promtool, which e2e.ops_metrics runs when
  # present, is left out: ~100 MB and a server of its own)
  lintian
  # the dashboard's browser test (e2e.dashboard_browser): headless Chromium over the DevTools protocol
  chromium python3-websocket
  # the OCI image (scripts/build-image.sh, e2e.deploy_image): buildah assembles it, podman runs it with
  # runc (crun refuses this sandbox's hybrid cgroups)
  buildah podman runc
  # the syslog sinks' tests (e2e.syslog_*) receive with syslog-ng; its loggen is scripts/bench_syslog.py's peer
  syslog-ng-core
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "supervent: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "supervent: these packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# nginx-light's package starts a system nginx on port 80; our tests start their own.
systemctl disable --now nginx >/dev/null 2>&1 || true
