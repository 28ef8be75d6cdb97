#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: install what is missing, build, run ctest.
#
#   scripts/test.sh                          # the normal build in build/ (BUILD_DIR), every test
#   scripts/test.sh --sanitize address       # ASan+UBSan build in build-asan/, the suite under it
#   scripts/test.sh --sanitize thread        # TSan build in build-tsan/
# Arguments after these go to ctest (e.g. -L e2e, -E 'ops_package'); CMAKE_ARGS adds configure
# arguments to a sanitizer build (e.g. CMAKE_ARGS=-DSUPERVENT_TEST_DIRS=daemon\;e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=""
if [ "${1:-}" = "--sanitize" ]; then
  sanitize="$2"
  shift 2
fi
scripts/install-deps.sh
case "$sanitize" in
  "")
    scripts/build.sh
    cd "${BUILD_DIR:-build}"
    ;;
  address|thread)
    build_dir="${BUILD_DIR:-build-${sanitize/address/asan}}"
    build_dir="${build_dir/thread/tsan}"
    value=$([ "$sanitize" = address ] && echo ON || echo thread)
    # shellcheck disable=SC2086  # CMAKE_ARGS: extra configure arguments, split on spaces
    BUILD_DIR="$build_dir" scripts/build.sh -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPERVENT_SANITIZE="$value" \
      -DSUPERVENT_BUILD_BENCH=OFF ${CMAKE_ARGS:-}
    cd "$build_dir"
    # Any report fails the test that caused it; leaks included (ASan), races included (TSan).
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
    export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
    ;;
  *)
    echo "test.sh: --sanitize address or thread, not '$sanitize'" >&2
    exit 2
    ;;
esac
ctest --output-on-failure --timeout 300 -j 2 "$@"
