#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: install what is missing, build,
# then generate events for a few seconds and show what happened.
#
#   scripts/demo.sh [SECONDS]            (default 5)
#
# Without AXIOM_TOKEN and AXIOM_DATASET: starts a local supervent-sink (which
# verifies every event), runs superventd against it with live progress, and
# prints a summary. With both set: ships to Axiom (https://api.axiom.co).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
scripts/install-deps.sh
scripts/build.sh >/dev/null
bin=${BUILD_DIR:-build}/bin

if [ -n "${AXIOM_TOKEN:-}" ] && [ -n "${AXIOM_DATASET:-}" ]; then
  echo "== shipping to Axiom, dataset ${AXIOM_DATASET}, for ${seconds} s"
  exec "$bin/superventd" --sink "${AXIOM_URL:-https://api.axiom.co}" --dataset "$AXIOM_DATASET" \
    --duration "$seconds" --progress
fi

work=$(mktemp -d)
sink_pid=
cleanup() {
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/supervent-sink" --listen 127.0.0.1:0 --port-file "$work/port" --verify --report "$work/report.json" \
  >"$work/sink.log" 2>&1 &
sink_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { cat "$work/sink.log" >&2; echo "supervent-sink did not start" >&2; exit 1; }
port=$(cat "$work/port")

echo "== superventd → supervent-sink on 127.0.0.1:${port} for ${seconds} s (no AXIOM_TOKEN/AXIOM_DATASET set)"
status=0
"$bin/superventd" --sink "http://127.0.0.1:${port}" --duration "$seconds" --progress \
  --socket "$work/control.sock" || status=$?

kill -TERM "$sink_pid"
wait "$sink_pid" 2>/dev/null || true
sink_pid=
echo "== what supervent-sink received and verified"
python3 - "$work/report.json" "$seconds" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
seconds = float(sys.argv[2])
print(f"  requests        {report['requests']:>15,}")
print(f"  events          {report['events']:>15,}   ({report['events'] / seconds:,.0f} events/s)")
print(f"  invalid events  {report['invalid_events']:>15,}")
print(f"  bytes on wire   {report['bytes_wire']:>15,}   ({report['bytes_wire'] / seconds / 1e6:,.1f} MB/s)")
for name, ds in report.get("datasets", {}).items():
    print(f"  dataset {name}: {ds['events']:,} events")
PY
exit $status
