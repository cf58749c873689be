#!/usr/bin/env bash
# bench_threads under each OpenMP wait policy, on the machine as it is and then beside a compiler that runs in a
# loop (docs/performance.md, "Threads"). Needs: cmake --build build --target bench_threads
#   benchmarks/wait_policy.sh [build-dir] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-3}
bench=$build/benchmarks/bench_threads
[ -x "$bench" ] || { echo "wait_policy.sh: $bench is missing; build it with: cmake --build $build --target bench_threads" >&2; exit 2; }
run_rounds() {
  for round in $(seq "$rounds"); do
    for policy in active passive default spin10000; do
      case $policy in
        default) out=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$bench" 11) ;;
        spin10000) out=$(env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=10000 "$bench" 11) ;;
        *) out=$(env -u GOMP_SPINCOUNT OMP_WAIT_POLICY=$policy "$bench" 11) ;;
      esac
      echo "$1 round $round $policy: $(echo "$out" | awk '/median/ {printf "%s %s ms  ", $1, $6}')"
    done
  done
}
run_rounds idle
scratch=$(mktemp -d)
trap 'kill $loop 2>/dev/null; rm -rf "$scratch"' EXIT
( while true; do g++ -std=c++20 -O1 -fopenmp -Iinclude -I/usr/include/eigen3 -c examples/guide/custom_layer.cpp -o "$scratch/o.o" 2>/dev/null; done ) &
loop=$!
sleep 3
run_rounds "beside a compiler"
