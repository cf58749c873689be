#!/usr/bin/env bash
# The library's unit tests (without the example programs) built by clang with AddressSanitizer, UndefinedBehavior-
# Sanitizer and LeakSanitizer (UNETFLOW_SANITIZE) and run: any report fails it. First, three controls must each be
# reported (a read past a tensor's end, a signed overflow, a leak), so that the instrumentation is known to be live.
#   sanitize_test.sh SOURCE_DIR WORK_DIR [JOBS]
# Exit status 77 (CTest: skipped) when clang or its sanitizer runtime is not installed (scripts/setup.sh installs them).
set -euo pipefail
source_dir=$1 work=$2 jobs=${3:-1}
clang=$(command -v clang++-14 || command -v clang++ || true)
if [[ -z $clang ]] || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.a > /dev/null 2>&1; then
  echo "skipped: clang++ with its sanitizer runtime is not installed (scripts/setup.sh installs clang and libclang-rt-14-dev)"
  exit 77
fi
cmake -S "$source_dir" -B "$work" -DCMAKE_CXX_COMPILER="$clang" -DCMAKE_BUILD_TYPE=Release -DUNETFLOW_SANITIZE=ON \
  -DUNETFLOW_BUILD_EXAMPLES=OFF -DUNETFLOW_BUILD_BENCHMARKS=OFF -DUNETFLOW_CUDA=OFF > "$work.configure.log" 2>&1 ||
  { cat "$work.configure.log"; echo "FAIL: the sanitizer build does not configure"; exit 1; }
echo "building the sanitizer build in $work (clang, $jobs jobs) ..."
cmake --build "$work" --target unetflow_tests sanitizer_controls -j"$jobs" > "$work.build.log" 2>&1 ||
  { tail -60 "$work.build.log"; echo "FAIL: the sanitizer build does not compile"; exit 1; }
if grep -q "warning:" "$work.build.log"; then
  grep -A3 "warning:" "$work.build.log" | head -40
  echo "FAIL: the sanitizer build has warnings"
  exit 1
fi

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:strict_init_order=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
control() {
  local defect=$1 report=$2 out
  set +e
  out=$("$work/tests/sanitizer_controls" "$defect" 2>&1)
  local status=$?
  set -e
  if ((status == 0)) || ! grep -q "$report" <<< "$out"; then
    echo "$out"
    echo "FAIL: control '$defect' was not reported as '$report' (exit status $status)"
    exit 1
  fi
  echo "control $defect: reported ($report)"
}
control overflow "AddressSanitizer: heap-buffer-overflow"
control undefined "runtime error: signed integer overflow"
control leak "LeakSanitizer: detected memory leaks"

echo "running the unit tests under the sanitizers ..."
"$work/tests/unetflow_tests" --no-intro
