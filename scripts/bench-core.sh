#!/usr/bin/env bash
# Builds the event engine alone and prints its benchmark table
# (generation + NDJSON serialization per core, against memcpy, allocations).
# usage: scripts/bench-core.sh [supervent-bench-core options, e.g. --batch 10000 --seconds 2]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build-bench-core}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPERVENT_AREAS=core -DSUPERVENT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" --target supervent-bench-core >/dev/null
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
"$build_dir/bin/supervent-bench-core" "$@"
