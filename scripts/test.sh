#!/usr/bin/env bash
# The test command: configure, build (library tests, examples, benchmarks) and run every CTest test.
#   scripts/test.sh [build-dir]        (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
