#!/usr/bin/env bash
# Builds the event engine alone and prints its benchmark table
# (generation + NDJSON serialization per core, against memcpy, allocations,
# and a plain-C fixed-schema serializer of the same event, the "peer" row,
# with each kernel's ratio to it), then, when valgrind is installed,
# instructions per event from callgrind, the peer's too: a count that stays
# put while other jobs make wall and CPU time wobble.
# usage: scripts/bench-core.sh [supervent-bench-core options, e.g. --batch 10000 --seconds 2]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build-bench-core}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPERVENT_AREAS=core -DSUPERVENT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" --target supervent-bench-core >/dev/null
bench="$build_dir/bin/supervent-bench-core"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
"$bench" "$@"

command -v valgrind >/dev/null || exit 0
# Valgrind cannot run AVX-512, so count the avx2 and scalar kernels.
instructions() {  # kernel batches [--peer 1] -> total instructions
    SUPERVENT_KERNEL="$1" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" --run-batches "$2" "${@:3}" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
echo
echo "| kernel | instructions/event (callgrind, live window, batch 2000) |"
echo "|--------|--------------------------------------------------------:|"
for kernel in scalar avx2; do
    few=$(instructions "$kernel" 5)
    many=$(instructions "$kernel" 25)
    echo "| $kernel | $(( (many - few) / (20 * 2000) )) |"
done
few=$(instructions scalar 5 --peer 1)
many=$(instructions scalar 25 --peer 1)
echo "| peer (plain C) | $(( (many - few) / (20 * 2000) )) |"
