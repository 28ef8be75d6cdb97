#!/usr/bin/env bash
# Throughput of supervent-sink on loopback, side by side with iperf3 in the
# same run (DESIGN.md §7: quote ratios, not absolute numbers, on a noisy box).
# Not run by ctest. Usage:
#   test/sink/bench_sink.sh [BUILD_DIR] [SECONDS]
# Needs wrk, iperf3, zstd, curl, python3. Prints one table.
set -euo pipefail
build=${1:-build}
seconds=${2:-10}
sink="$build/bin/supervent-sink"
[ -x "$sink" ] || { echo "bench_sink: no $sink; build first" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# ~1.1 MB of NDJSON in the shape of DESIGN.md §4, ~570 bytes per event.
python3 - "$work/body.ndjson" <<'PY'
import json, random, sys
random.seed(1)
paths = [f"/api/v1/{p}" for p in ("users", "orders", "products", "cart", "login", "search", "items", "auth")]
out, size, i = [], 0, 0
while size < 1_100_000:
    ip = f"10.{random.randint(0,255)}.{random.randint(0,255)}.{random.randint(0,255)}"
    path, status, nbytes = random.choice(paths), random.choice([200]*8 + [201, 301, 404, 500]), random.randint(100, 50000)
    ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    message = f'{ip} - - [01/Jan/2024:00:{i//60%60:02d}:{i%60:02d} +0000] "GET {path} HTTP/1.1" {status} {nbytes} "https://example.com/" "{ua}"'
    event = {"_time": f"2024-01-01T00:{i//60%60:02d}:{i%60:02d}.{random.randint(0,999999999):09d}Z",
             "source": "web server access logs", "event_type": "access", "message": message,
             "attributes": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "status": status, "bytes": nbytes,
                            "client_ip": ip, "response_time_ms": random.randint(1, 900),
                            "request_id": f"{random.getrandbits(64):016x}",
                            "referer": f"https://www.example.com/products/item-{random.randint(0,99999):05d}"}}
    line = json.dumps(event, separators=(",", ":"))
    out.append(line); size += len(line) + 1; i += 1
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
zstd -q -1 -f "$work/body.ndjson" -o "$work/body.ndjson.zst"
events_per_body=$(wc -l < "$work/body.ndjson")
for variant in plain zstd; do
  file="$work/body.ndjson"; encoding=""
  if [ $variant = zstd ]; then file="$work/body.ndjson.zst"; encoding='wrk.headers["Content-Encoding"] = "zstd"'; fi
  cat > "$work/$variant.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-ndjson"
$encoding
local f = io.open("$file", "rb")
wrk.body = f:read("*a")
f:close()
LUA
done

idle_ticks() { awk '/^cpu /{print $5+$6}' /proc/stat; }
total_ticks() { awk '/^cpu /{s=0; for(i=2;i<=NF;i++) s+=$i; print s}' /proc/stat; }

# "MB/s per sink core" is decoded bytes over the sink's own CPU time: the
# sink's ceiling, and much steadier than wall-clock rates on a busy machine.
printf '%-34s %10s %12s %12s %12s %8s\n' "run" "wire MB/s" "decoded MB/s" "events/s" "MB/s/core" "idle %"
iperf3 -s -1 -p 15201 >/dev/null 2>&1 &
sleep 0.3
i0=$(idle_ticks); t0=$(total_ticks)
bps=$(iperf3 -c 127.0.0.1 -p 15201 -l 1M -t "$seconds" -J | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])')
i1=$(idle_ticks); t1=$(total_ticks)
printf '%-34s %10.0f %12s %12s %12s %8.0f\n' "iperf3 -l 1M" "$(python3 -c "print($bps/8e6)")" "-" "-" "-" \
  "$(python3 -c "print(100*($i1-$i0)/max(1,$t1-$t0))")"

run() {  # name lua connections [sink options]
  local name=$1 lua=$2 connections=$3; shift 3
  rm -f "$work/port"
  "$sink" --listen 127.0.0.1:0 --port-file "$work/port" "$@" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
  local port; port=$(cat "$work/port")
  local i0 t0 i1 t1 c0 c1
  i0=$(idle_ticks); t0=$(total_ticks); c0=$(awk '{print $14+$15}' /proc/$pid/stat)
  wrk -t1 -c"$connections" -d"${seconds}s" -s "$work/$lua.lua" "http://127.0.0.1:$port/v1/datasets/bench/ingest" > "$work/wrk.out"
  i1=$(idle_ticks); t1=$(total_ticks); c1=$(awk '{print $14+$15}' /proc/$pid/stat)
  curl -s "http://127.0.0.1:$port/stats" > "$work/stats.json"
  kill -TERM $pid; wait $pid || true
  python3 - "$work/stats.json" "$work/wrk.out" "$name" "$(( (i1-i0)*100/((t1-t0)>0?(t1-t0):1) ))" \
    "$(( c1-c0 ))" "$(getconf CLK_TCK)" <<'PY'
import json, re, sys
stats, wrk, name, idle = json.load(open(sys.argv[1])), open(sys.argv[2]).read(), sys.argv[3], sys.argv[4]
cpu_s = max(int(sys.argv[5]), 1) / int(sys.argv[6])
seconds = float(re.search(r"requests in ([\d.]+)s", wrk).group(1))
print(f"{name:<34} {stats['bytes_wire']/seconds/1e6:>10.0f} {stats['bytes_decoded']/seconds/1e6:>12.0f} "
      f"{stats['events']/seconds:>12.0f} {stats['bytes_decoded']/cpu_s/1e6:>12.0f} {idle:>8}")
PY
}
run "wrk -c1 -> sink" plain 1
run "wrk -c4 -> sink" plain 4
run "wrk -c4 -> sink --verify" plain 4 --verify
run "wrk -c4 zstd -> sink" zstd 4
run "wrk -c4 zstd -> sink --verify" zstd 4 --verify
run "wrk -c4 -> sink --threads 2" plain 4 --threads 2
echo "body: $(stat -c %s "$work/body.ndjson") bytes, $events_per_body events; zstd -1: $(stat -c %s "$work/body.ndjson.zst") bytes; ${seconds}s per run; $(nproc) cores"
