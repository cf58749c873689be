#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: configure and build the CUDA backend, run its parity suite against the CPU
# backend, and run the GPU benchmark side by side with PyTorch on the same GPU (including the assignment's 5-epoch
# D=128 denoiser run); everything goes into one file. Needs nvcc, CMake, PyTorch with CUDA, and either the
# Debian packages of scripts/setup.sh or the folder scripts/prepare-device-deps.sh makes (third_party/device).
#   scripts/device-check.sh [RESULT_FILE]      (default: $OUT/device-check.txt, else ./device-check.txt)
# Within 8 minutes on an H200 with 16 cores: build about 2 min, tests and benchmarks about 3.
set -uo pipefail
cd "$(dirname "$0")/.."
result=${1:-${OUT:-.}/device-check.txt}
mkdir -p "$(dirname "$result")"
deps=$PWD/third_party/device
build=build-device
export PATH=$PATH:/usr/local/cuda/bin

{
  echo "# unetflow device check, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
  nvcc --version 2>&1 | tail -1
  cmake --version | head -1
  echo "cores: $(nproc)"
} > "$result"

# Runs one stage, appending its output and exit status to the result file.
stage() {
  local name=$1
  shift
  echo "== $name" | tee -a "$result"
  local t0=$SECONDS
  "$@" >> "$result" 2>&1
  local rc=$?
  echo "== $name: exit $rc after $((SECONDS - t0)) s" | tee -a "$result"
  return $rc
}

args=(-DCMAKE_BUILD_TYPE=Release -DUNETFLOW_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DUNETFLOW_BUILD_EXAMPLES=OFF)
[ -d "$deps/include" ] && args+=(-DUNETFLOW_DEPS="$deps")
stage configure cmake -S . -B "$build" "${args[@]}" || exit 1
stage build cmake --build "$build" -j"$(nproc)" --target unetflow_cuda_tests bench_cuda || exit 1
stage "CUDA parity suite (against the CPU backend)" "$build/tests/unetflow_cuda_tests"
parity=$?
mnist=()
[ -d "$deps/mnist" ] && mnist=(--data "$deps/mnist")
[ -d data/mnist ] && [ ${#mnist[@]} -eq 0 ] && mnist=(--data data/mnist)
stage "GPU benchmark against PyTorch" python3 benchmarks/compare_pytorch_cuda.py --bench "$build/benchmarks/bench_cuda" "${mnist[@]}"
bench=$?
# NcclComm (docs/distributed.md) needs one GPU per process: checked where there are 2 or more and Open MPI is there.
gpus=$(nvidia-smi -L 2> /dev/null | wc -l)
if ((gpus >= 2)) && command -v mpirun > /dev/null; then
  stage "NCCL build" cmake --build "$build" -j"$(nproc)" --target nccl_check &&
    stage "NCCL all-reduce on 2 GPUs" mpirun --allow-run-as-root -np 2 "$build/tests/nccl_check"
else
  echo "NCCL check not run: $gpus GPU(s) (needs 2) or no mpirun; on such a machine: mpirun -np 2 $build/tests/nccl_check" | tee -a "$result"
fi
echo "device check finished: parity exit $parity, benchmark exit $bench; results in $result"
[ $parity -eq 0 ] && [ $bench -eq 0 ]
