#!/usr/bin/env bash
# One row per built-in scenario (superventd --scenario NAME, issue 19 item 5):
# events per CPU-second of one worker generating into discard: (no network,
# no files), in NDJSON (the line and its attributes) and as text lines (the
# line alone), from superventd's own summary. CPU-seconds, not wall time: the
# worker's CPU time is what a core gives, and it stays put while other jobs
# load the machine (wall time and events/s are shown beside it). The peer in
# the same run: dd copying zeros to /dev/null (memory bandwidth of one core),
# against the bytes each scenario renders per second of CPU.
# usage: scripts/bench-scenarios.sh [EVENTS per run, default 4000000]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${BIN_DIR:-build/bin}"
events="${1:-4000000}"
[ -x "$bin/superventd" ] || { echo "build superventd first (scripts/build.sh, or BIN_DIR=...)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $events events per run, one worker"
dd_rate=$(dd if=/dev/zero of=/dev/null bs=1M count=4096 2>&1 | sed -n 's/.*, \([0-9.]*\) GB\/s$/\1/p')
echo "peer: dd if=/dev/zero of=/dev/null bs=1M: ${dd_rate:-?} GB/s"
echo
echo "| scenario | format | M events per CPU-s | bytes/event | MB per CPU-s | wall M events/s |"
echo "|---|---|--:|--:|--:|--:|"
for name in $("$bin/supervent-ctl" sources --builtin | cut -d' ' -f1); do
    for format in ndjson text; do
        summary=$("$bin/superventd" --scenario "$name" --sink discard: --format "$format" --workers 1 --no-pin \
                      --events "$events" --seed 1 --socket "$tmp/ctl.sock" 2>&1 | grep 'summary:')
        per_cpu=$(sed -n 's/.* \([0-9,]*\) events generated per CPU-second.*/\1/p' <<<"$summary" | tr -d ,)
        wall=$(sed -n 's/.*s, \([0-9,]*\) events\/s,.*/\1/p' <<<"$summary" | tr -d ,)
        bytes=$(sed -n 's/.*summary: \([0-9,]*\) bytes sent.*/\1/p' <<<"$summary" | tr -d ,)
        generated=$(sed -n 's/.*summary: \([0-9,]*\) events generated,.*/\1/p' <<<"$summary" | tr -d ,)
        awk -v n="$name" -v f="$format" -v c="$per_cpu" -v w="$wall" -v b="$bytes" -v g="$generated" \
            'BEGIN { printf "| %s | %s | %.2f | %d | %.0f | %.2f |\n", n, f, c / 1e6, b / g, c * (b / g) / 1e6, w / 1e6 }'
    done
done

# Instructions per event from callgrind: a count that stays put however loaded
# the machine is (the difference of two runs cancels start-up). Skipped
# without valgrind or with CALLGRIND=0.
command -v valgrind >/dev/null && [ "${CALLGRIND:-1}" != 0 ] || exit 0
instructions() {  # name events -> total instructions
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin/superventd" --scenario "$1" --sink discard: \
        --workers 1 --no-pin --events "$2" --seed 1 --socket "$tmp/ctl.sock" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
echo
echo "| scenario | instructions/event (callgrind, NDJSON, live, 300,000 minus 100,000 events) |"
echo "|---|--:|"
for name in $("$bin/supervent-ctl" sources --builtin | cut -d' ' -f1); do
    few=$(instructions "$name" 100000)
    many=$(instructions "$name" 300000)
    echo "| $name | $(( (many - few) / 200000 )) |"
done
