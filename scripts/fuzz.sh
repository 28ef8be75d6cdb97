#!/usr/bin/env bash
# Builds the libFuzzer targets (test/fuzz, clang++-14, ASan+UBSan) and runs
# each for a bounded time over its seed corpus. Exits 1 if any target found a
# crash, a sanitizer report, a leak, a timeout or an out-of-memory; the input
# that did it is kept under BUILD_DIR/fuzz-artifacts/ and named in the output.
#
#   scripts/fuzz.sh                      # every target, 60 s each
#   FUZZ_SECONDS=30 scripts/fuzz.sh      # what CI runs
#   scripts/fuzz.sh --seconds 600 fuzz_toml
#   scripts/fuzz.sh --no-build ...       # use the binaries already in BUILD_DIR
#
# New inputs found on the way go to a scratch corpus (BUILD_DIR/fuzz-corpus/),
# never into the repository; copy the interesting ones into
# test/fuzz/corpus/<target>/ by hand (keep them few and small).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
build_dir="${FUZZ_BUILD_DIR:-build-fuzz}"
build=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

if [ "$build" = 1 ]; then
  if ! command -v clang++-14 >/dev/null; then
    echo "fuzz.sh: clang++-14 is missing (scripts/install-deps.sh installs clang-14 and libclang-rt-14-dev)" >&2
    exit 1
  fi
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    CXX=clang++-14 cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPERVENT_FUZZ=ON \
      -DSUPERVENT_BUILD_TESTS=OFF -DSUPERVENT_BUILD_BENCH=OFF >/dev/null
  fi
  cmake --build "$build_dir" --target fuzz_targets -j "${FUZZ_BUILD_JOBS:-2}"
fi

if [ ${#targets[@]} -eq 0 ]; then
  for binary in "$build_dir"/bin/fuzz_*; do
    [ -x "$binary" ] && targets+=("$(basename "$binary")")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets in $build_dir/bin" >&2
  exit 1
fi

artifacts="$build_dir/fuzz-artifacts"
mkdir -p "$artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

failed=()
printf '%-22s %8s %10s %8s %8s  %s\n' target seconds runs cov corpus verdict
for target in "${targets[@]}"; do
  binary="$build_dir/bin/$target"
  seeds="test/fuzz/corpus/$target"
  if [ ! -x "$binary" ]; then
    echo "fuzz.sh: $binary is missing" >&2
    failed+=("$target (not built)")
    continue
  fi
  if [ ! -d "$seeds" ]; then
    echo "fuzz.sh: $target has no seed corpus at $seeds" >&2
    failed+=("$target (no corpus)")
    continue
  fi
  work="$build_dir/fuzz-corpus/$target"
  mkdir -p "$work"
  log="$artifacts/$target.log"
  started=$(date +%s)
  # A dictionary of the input's words (test/fuzz/<target>.dict, or the one its
  # format shares: fuzz_convert reads YAML) steers mutations into its grammar.
  dict=()
  for candidate in "test/fuzz/$target.dict" "test/fuzz/$(sed -n 's/^# *dictionary: *//p' "test/fuzz/$target.cpp" 2>/dev/null | head -1)"; do
    if [ -f "$candidate" ]; then dict=(-dict="$candidate"); break; fi
  done
  set +e
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a leak or a blow-up.
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
    -artifact_prefix="$artifacts/$target-" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  took=$(( $(date +%s) - started ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -1 | cut -d' ' -f2)
  corpus=$(find "$work" -type f | wc -l)
  if [ "$rc" = 0 ]; then
    verdict=ok
  else
    verdict="FAILED (exit $rc; log $log)"
    failed+=("$target")
  fi
  printf '%-22s %8s %10s %8s %8s  %s\n' "$target" "$took" "${runs:-?}" "${cov:-?}" "$corpus" "$verdict"
  if [ "$rc" != 0 ]; then
    (grep -E "ERROR:|SUMMARY:|invariant broken|escaped|runtime error|Test unit written" "$log" || true) | head -20 |
      sed 's/^/    /'
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (inputs under $artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: every target ran ${seconds} s without a finding"
