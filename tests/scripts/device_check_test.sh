#!/usr/bin/env bash
# scripts/device-check.sh and scripts/prepare-device-deps.sh without a GPU: a stand-in nvidia-smi and a stand-in
# test binary (UNETFLOW_DEVICE_TESTS) whose cases pass or fail as told. Checks that every case runs once before any
# rerun, that only the first two failures run again (synchronised), that a binary finding no device (exit 77) ends
# the call as skipped rather than as a failing case, that an MNIST folder of .gz files is carried as it is, and that
# compare_pytorch_cuda.py prints unetflow's figures when PyTorch has no GPU.
#   tests/scripts/device_check_test.sh SOURCE_DIR
set -uo pipefail
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok    $what"; else echo "FAIL  $what"; failures=$((failures + 1)); fi
}

mkdir -p "$work/bin"
cat > "$work/bin/nvidia-smi" <<'FAKE'
#!/usr/bin/env bash
echo "Stand-in GPU, 0.0, 1 MiB"
FAKE
cat > "$work/bin/cuda_tests" <<'FAKE'
#!/usr/bin/env bash
# lists four cases (one with a comma); "case A" passes, the others fail; each run is logged with its sync setting
if [[ " $* " == *" --list-test-cases "* ]]; then
  if [[ -n ${FAKE_NO_DEVICE:-} ]]; then echo "no CUDA device: the CUDA tests are skipped"; exit 77; fi
  printf '[doctest] Listing all test case names\n===============\ncase A\ncase B, with a comma\ncase C\ncase D\n===============\n'
  exit 0
fi
for a in "$@"; do [[ $a == -tc=* ]] && pattern=${a#-tc=}; done
echo "$pattern sync=${UNETFLOW_CUDA_SYNC:-0}" >> "$FAKE_LOG"
[[ $pattern == "case A" ]]
FAKE
chmod +x "$work/bin/nvidia-smi" "$work/bin/cuda_tests"

run_check() {  # the parity call with the stand-ins; its exit status
  PATH=$work/bin:$PATH UNETFLOW_DEVICE_TESTS=$work/bin/cuda_tests FAKE_LOG=$work/log UNETFLOW_DEVICE_BUDGET=120 \
    "$src/scripts/device-check.sh" parity "$work/result.txt" > "$work/output.txt" 2>&1
}

run_check
rc=$?
check "parity: three failing cases make the call fail (exit $rc)" test "$rc" -ne 0
expected="case A sync=0
case B? with a comma sync=0
case C sync=0
case D sync=0
case B? with a comma sync=1
case C sync=1"
check "parity: every case once in order, then the first two failures again, synchronised" \
  test "$(cat "$work/log")" == "$expected"
check "parity: the summary counts 3 of 4 failed" grep -q "3 of 4 test cases failed" "$work/result.txt"
check "parity: the header names the build tools" grep -q "^build tools:" "$work/result.txt"

rm -f "$work/log"
FAKE_NO_DEVICE=1 run_check
rc=$?
check "parity without a device: exit 77 (skipped), not a failure (exit $rc)" test "$rc" -eq 77
check "parity without a device: no case was run" test ! -e "$work/log"
check "parity without a device: says so" grep -q "skipped: the test binary found no CUDA device" "$work/result.txt"

# prepare-device-deps.sh: .gz files carried as they are, raw files compressed; a folder without MNIST, no mnist/
if [ -e /usr/include/eigen3/Eigen/Core ] && [ -e /usr/include/doctest/doctest.h ]; then
  mkdir -p "$work/gz" "$work/raw"
  for stem in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    echo "$stem" > "$work/raw/$stem"
    gzip -c "$work/raw/$stem" > "$work/gz/$stem.gz"
  done
  "$src/scripts/prepare-device-deps.sh" "$work/gz" "$work/deps_gz" > /dev/null 2>&1
  check "prepare-device-deps: .gz MNIST carried as it is" cmp -s "$work/gz/t10k-labels-idx1-ubyte.gz" \
    "$work/deps_gz/mnist/t10k-labels-idx1-ubyte.gz"
  "$src/scripts/prepare-device-deps.sh" "$work/raw" "$work/deps_raw" > /dev/null 2>&1
  check "prepare-device-deps: raw MNIST compressed" \
    test "$(gzip -dc "$work/deps_raw/mnist/train-images-idx3-ubyte.gz")" == "train-images-idx3-ubyte"
  "$src/scripts/prepare-device-deps.sh" "$work/nothing" "$work/deps_none" > /dev/null 2>&1
  check "prepare-device-deps: no MNIST, no mnist folder (the 5-epoch run is skipped)" test ! -e "$work/deps_none/mnist"
else
  echo "skip  prepare-device-deps (needs the headers scripts/setup.sh installs)"
fi

# compare_pytorch_cuda.py runs bench_cuda before it needs PyTorch: here PyTorch sees no GPU (or is absent), and
# unetflow's figures must still be printed.
cat > "$work/bin/bench_cuda" <<'FAKE'
#!/usr/bin/env bash
echo "fm_time_D64_B64: 1234.5 images/s"
FAKE
chmod +x "$work/bin/bench_cuda"
if command -v python3 > /dev/null; then
  python3 "$src/benchmarks/compare_pytorch_cuda.py" --bench "$work/bin/bench_cuda" > "$work/compare.txt" 2>&1
  check "compare_pytorch_cuda: unetflow's figures printed without a GPU for PyTorch" \
    grep -q "^fm_time_D64_B64: 1234.5 images/s" "$work/compare.txt"
fi

# The bench call with a stand-in bench_cuda (UNETFLOW_DEVICE_BENCH: no build): its stages in order, and a
# bench_cuda finding no device (exit 77) ends the call as skipped, not failed.
cat > "$work/bin/bench_stand_in" <<'FAKE'
#!/usr/bin/env bash
[[ -n ${FAKE_NO_DEVICE:-} ]] && { echo "skipped: no CUDA device here"; exit 77; }
echo "fm_time_D64_B64: 1234.5 images/s"
FAKE
chmod +x "$work/bin/bench_stand_in"
run_bench() {  # the bench call with the stand-ins; its exit status
  PATH=$work/bin:$PATH UNETFLOW_DEVICE_BENCH=$work/bin/bench_stand_in UNETFLOW_DEVICE_BUDGET=120 \
    "$src/scripts/device-check.sh" bench "$work/bench.txt" > "$work/bench_output.txt" 2>&1
}
run_bench
rc=$?
check "bench: the stages in order (benchmark, then the NCCL line, then the summary)" \
  test "$(grep -oE '^(== GPU benchmark|NCCL check|device check \(bench\))' "$work/bench.txt" | uniq | tr '\n' '|')" == \
  "== GPU benchmark|NCCL check|device check (bench)|"
check "bench: unetflow's figure in the result file" grep -q "^fm_time_D64_B64: 1234.5 images/s" "$work/bench.txt"
FAKE_NO_DEVICE=1 run_bench
rc=$?
check "bench without a device: exit 77 (skipped), not a failure (exit $rc)" test "$rc" -eq 77
check "bench without a device: says so" grep -q "skipped: bench_cuda found no CUDA device" "$work/bench.txt"

((failures == 0)) || { echo "$failures check(s) failed"; exit 1; }
echo "device-check scripts: all checks passed"
