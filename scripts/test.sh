#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: install what is missing, build, run ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 300 -j 2
