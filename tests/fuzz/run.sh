#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for SECONDS from its committed seed corpus:
#   tests/fuzz/run.sh SECONDS [target ...]      targets: idx npy checkpoint gzip image_folder (default: all)
# A crash, a sanitizer report, a leak or a timeout fails it; the input that did it is kept in build/fuzz/.
# Exit status 77 (CTest: skipped) when clang's libFuzzer is not installed (scripts/setup.sh installs it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=$1
shift
targets=("${@:-idx npy checkpoint gzip image_folder}")
read -r -a targets <<< "${targets[*]}"
work=${UNETFLOW_FUZZ_DIR:-$root/build/fuzz}
clang=$(command -v clang++-14 || command -v clang++ || true)
if [[ -z $clang ]] || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a > /dev/null 2>&1; then
  echo "skipped: clang++ with libFuzzer is not installed (scripts/setup.sh installs clang and libclang-rt-14-dev)"
  exit 77
fi
mkdir -p "$work"
flags=(-std=c++20 -O1 -g -fopenmp -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root/include" -I/usr/include/eigen3)
for t in "${targets[@]}"; do
  binary=$work/${t}_fuzz
  if [[ ! -x $binary || $here/${t}_fuzz.cpp -nt $binary || -n $(find "$root/include" "$here" -newer "$binary" -name '*.hpp' -print -quit) ]]; then
    echo "building $t fuzzer ..."
    "$clang" "${flags[@]}" "$here/${t}_fuzz.cpp" -o "$binary" -lz
  fi
  corpus=$work/corpus_$t
  mkdir -p "$corpus" "$work/crashes_$t"
  cp -n "$here/corpus/$t/"* "$corpus/" 2>/dev/null || true
  echo "fuzzing $t for $seconds s ..."
  log=$work/$t.log
  if ! (cd "$work/crashes_$t" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "$corpus" > "$log" 2>&1); then
    tail -40 "$log"
    echo "FAIL: the $t fuzzer found a crash; the input is in $work/crashes_$t"
    exit 1
  fi
  grep -E "^stat::number_of_executed_units|^Done" "$log" | tr '\n' ' '
  echo
done
