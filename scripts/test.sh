#!/usr/bin/env bash
# The test command: install what is missing, configure, build (library tests and examples) and run every CTest test.
#   scripts/test.sh [build-dir]        (default: build)
# Benchmarks other than step_memory build on request: cmake --build build --target bench_step bench_layers.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
scripts/setup.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
