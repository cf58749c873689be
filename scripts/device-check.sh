#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, in two calls made back to back (the second reuses the first's build when the
# machine is still warm, else it builds again):
#   scripts/device-check.sh parity [RESULT_FILE]   the CUDA runtime and cuBLAS present, configure, build, then the
#                                                  parity suite against the CPU backend, one test case per process
#                                                  (the convolutions on both engines, cuDNN's where it is found);
#                                                  a failing case runs again with graphs off, UNETFLOW_CUDA_SYNC=1 and
#                                                  CUDA_LAUNCH_BLOCKING=1, so that a fault names its kernel
#   scripts/device-check.sh bench [RESULT_FILE]    the GPU benchmark side by side with PyTorch on the same GPU, the
#                                                  assignment's 5-epoch D=128 denoiser run last; with 2 or more GPUs
#                                                  and Open MPI, the NCCL check
# Every stage has its own time limit, cut to what is left of the call's budget (UNETFLOW_DEVICE_BUDGET seconds;
# by default 330 for parity and 390 for bench, so that both calls and a machine start fit the 15 minutes of device
# time a session is lent). The stages in order, with their limits:
#   parity: CUDA runtime and cuBLAS present 10 s, configure 60 s, build 240 s, listing the cases 60 s, each case 120 s,
#           the first two failures again (no graphs, synchronised) 120 s each
#   bench:  configure 60 s, build 240 s, GPU benchmark against PyTorch with the 5-epoch run last 420 s,
#           NCCL all-reduce (2 or more GPUs only: its own build 240 s, then 60 s)
# A binary that finds no CUDA device (exit 77) ends either call as skipped (exit 77). Output goes to the result file
# (default $OUT/device-check-<call>.txt, else ./device-check-<call>.txt) line by line as it is printed, so a stage
# cut short keeps what it printed; a stage with no time left is said and skipped.
# Needs nvcc, CMake, PyTorch with CUDA (bench), and either the Debian packages of scripts/setup.sh or the folder
# scripts/prepare-device-deps.sh makes (third_party/device).
set -uo pipefail
cd "$(dirname "$0")/.."
call=${1:-}
if [[ $call != parity && $call != bench ]]; then
  echo "usage: scripts/device-check.sh parity|bench [RESULT_FILE]" >&2
  exit 2
fi
result=${2:-${OUT:-.}/device-check-$call.txt}
mkdir -p "$(dirname "$result")"
deps=$PWD/third_party/device
build=build-device
export PATH=$PATH:/usr/local/cuda/bin PYTHONUNBUFFERED=1

# Ninja when the machine has it (a GPU machine's image may list CMake and Ninja but not make), else CMake's default.
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
{
  echo "# unetflow device check ($call), $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
  nvcc --version 2>&1 | tail -1
  cmake --version | head -1
  tools=""
  for t in ninja make g++ c++ nvcc python3; do command -v "$t" > /dev/null && tools+=" $t"; done
  echo "build tools:${tools:- none} (generator: ${generator[1]:-the CMake default})"
  echo "cores: $(nproc)"
} | tee "$result"

default_budget=330
[[ $call == bench ]] && default_budget=390
budget=${UNETFLOW_DEVICE_BUDGET:-$default_budget}
[[ $budget =~ ^[0-9]+$ ]] || { echo "device-check: UNETFLOW_DEVICE_BUDGET=$budget is not a number of seconds." >&2; exit 2; }

# stage NAME SECONDS COMMAND...: runs COMMAND for at most SECONDS (less if the budget has less left), its output
# streamed into the result file. Returns COMMAND's status, or 125 when no time was left to start it.
stage() {
  local name=$1 limit=$2
  shift 2
  local left=$((budget - SECONDS))
  if ((left < 10)); then
    echo "== $name: NOT RUN (the call's budget of $budget s is spent)" | tee -a "$result"
    return 125
  fi
  ((limit > left)) && limit=$left
  echo "== $name (limit $limit s)" | tee -a "$result"
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" stdbuf -oL -eL "$@" 2>&1 | tee -a "$result"
  local rc=${PIPESTATUS[0]}
  ((rc == 124)) && echo "== $name: TIMED OUT after $limit s" | tee -a "$result"
  echo "== $name: exit $rc after $((SECONDS - t0)) s" | tee -a "$result"
  return "$rc"
}

args=(-DCMAKE_BUILD_TYPE=Release -DUNETFLOW_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DUNETFLOW_BUILD_EXAMPLES=OFF)
[ -d "$deps/include" ] && args+=(-DUNETFLOW_DEPS="$deps")
# cuDNN (the second convolution engine): the toolkit's, else the nvidia-cudnn wheel beside PyTorch; its libraries
# load their sub-libraries from the library path.
cudnn=""
if [ ! -e /usr/local/cuda/include/cudnn.h ]; then
  cudnn=$(python3 -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2> /dev/null || true)
fi
if [ -n "$cudnn" ] && [ -e "$cudnn/include/cudnn.h" ]; then
  args+=(-DUNETFLOW_CUDNN_ROOT="$cudnn")
  export LD_LIBRARY_PATH=$cudnn/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
build_targets() {
  # a build folder made by another generator cannot be reconfigured with this one
  if [ -f "$build/CMakeCache.txt" ] && ! grep -q "^CMAKE_GENERATOR:INTERNAL=${generator[1]:-Unix Makefiles}$" "$build/CMakeCache.txt"; then
    rm -rf "$build"
  fi
  stage configure 60 cmake -S . -B "$build" "${generator[@]}" "${args[@]}" || exit 1
  stage build 240 cmake --build "$build" -j"$(nproc)" --target "$@" || exit 1
}

if [[ $call == parity ]]; then
  stage "CUDA runtime and cuBLAS present" 10 bash -c \
    'ls /usr/local/cuda/lib64/libcudart.so* /usr/local/cuda/lib64/libcublas.so* || ldconfig -p | grep -E "libcudart|libcublas"' ||
    exit 1
  echo "cuDNN: ${cudnn:-/usr/local/cuda (if cudnn.h is there; else the cuDNN engine is not built)}" | tee -a "$result"
  # UNETFLOW_DEVICE_TESTS: a test binary already built (the script's own test gives a stand-in), no build here
  if [ -n "${UNETFLOW_DEVICE_TESTS:-}" ]; then
    tests=$UNETFLOW_DEVICE_TESTS
  else
    build_targets unetflow_cuda_tests
    tests=$build/tests/unetflow_cuda_tests
  fi
  listing=$(timeout --kill-after=5 60 "$tests" --list-test-cases --no-intro 2>&1)
  listed=$?
  if ((listed == 77)); then  # the binary's "no CUDA device here": nothing to check, and not a failure of a case
    echo "$listing" | tee -a "$result"
    echo "device check (parity) skipped: the test binary found no CUDA device (exit 77)" | tee -a "$result"
    exit 77
  fi
  mapfile -t cases < <(((listed == 0)) && echo "$listing" |
    grep -v -e '^\[doctest\]' -e '^====' -e '^$' -e '^CUDA device: ')
  echo "${#cases[@]} test cases" | tee -a "$result"
  if ((${#cases[@]} == 0)); then
    echo "$listing" | tee -a "$result"
    echo "device check (parity) failed: the test binary listed no test cases (exit $listed; above: what it said)" |
      tee -a "$result"
    exit 1
  fi
  # Every case once first, so that a systematic failure cannot starve the later ones of time; then the first two
  # failures again with graphs off and every launch synchronised, so that a fault names its kernel.
  failed=() unrun=0
  for name in "${cases[@]}"; do
    pattern=${name//,/?}  # doctest splits -tc at commas; ? matches any one character
    stage "parity: $name" 120 "$tests" --no-intro -tc="$pattern"
    rc=$?
    if ((rc == 125)); then
      ((++unrun))
    elif ((rc != 0)); then
      failed+=("$name")
    fi
  done
  for name in "${failed[@]:0:2}"; do
    pattern=${name//,/?}
    UNETFLOW_CUDA_GRAPHS=0 UNETFLOW_CUDA_SYNC=1 CUDA_LAUNCH_BLOCKING=1 \
      stage "again, no graphs, synchronised: $name" 120 "$tests" --no-intro -tc="$pattern"
  done
  echo "device check (parity) finished: ${#failed[@]} of ${#cases[@]} test cases failed, $unrun not run for time;" \
    "results in $result" | tee -a "$result"
  ((${#failed[@]} == 0 && unrun == 0))
  exit
fi

# UNETFLOW_DEVICE_BENCH: a bench_cuda already built (the script's own test gives a stand-in), no build here
if [ -n "${UNETFLOW_DEVICE_BENCH:-}" ]; then
  bench_program=$UNETFLOW_DEVICE_BENCH
else
  build_targets bench_cuda
  bench_program=$build/benchmarks/bench_cuda
fi
mnist=()
[ -d "$deps/mnist" ] && mnist=(--data "$deps/mnist")
[ -d data/mnist ] && [ ${#mnist[@]} -eq 0 ] && mnist=(--data data/mnist)
stage "GPU benchmark against PyTorch (the 5-epoch run last)" 420 \
  python3 benchmarks/compare_pytorch_cuda.py --bench "$bench_program" "${mnist[@]}"
bench=$?
if ((bench == 77)); then  # bench_cuda's "no CUDA device here", as the parity call's listing
  echo "device check (bench) skipped: bench_cuda found no CUDA device (exit 77)" | tee -a "$result"
  exit 77
fi
# NcclComm (docs/distributed.md) needs one GPU per process: checked where there are 2 or more and Open MPI is there.
gpus=$(nvidia-smi -L 2> /dev/null | wc -l)
if ((gpus >= 2)) && command -v mpirun > /dev/null; then
  build_targets nccl_check
  stage "NCCL all-reduce on 2 GPUs" 60 mpirun --allow-run-as-root -np 2 "$build/tests/nccl_check"
else
  echo "NCCL check not run: $gpus GPU(s) (needs 2) or no mpirun; on such a machine: mpirun -np 2 $build/tests/nccl_check" | tee -a "$result"
fi
echo "device check (bench) finished: benchmark exit $bench; results in $result" | tee -a "$result"
((bench == 0))
