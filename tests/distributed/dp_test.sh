#!/usr/bin/env bash
# Data-parallel training under mpirun (dp_train.cpp: a denoiser without BatchNorm, global batch 8, 30 samples, so
# the last batch of each epoch is 6):
#   - 2 processes end with the weights of 1 process, within 1e-6 relative, after every epoch;
#   - the two processes together are given every sample exactly once per epoch;
#   - deterministic mode repeats its bits, on 2 and on 3 processes;
#   - killed (SIGKILL) in the middle of epoch 2, the run resumes on 2 processes to the uninterrupted run's bits,
#     and on 1 process to its weights within 1e-6;
#   - BatchNorm is per process (a denoiser with BatchNorm: rank 0's statistics are those of its own rows).
#   dp_test.sh MPIEXEC DP_TRAIN WORK_DIR
set -euo pipefail
mpiexec=$1 dp_train=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work"
# Root is refused unless allowed (CI runs as root); one thread per process on a 2-core machine.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
run() {
  local np=$1
  shift
  "$mpiexec" --oversubscribe -np "$np" "$dp_train" train "$@"
}
same() {  # same A B TOLERANCE: every epoch's weights and the final checkpoint's model part
  local epoch
  for epoch in 1 2 3; do
    "$dp_train" compare "$1/model-epoch$epoch.safetensors" "$2/model-epoch$epoch.safetensors" "$3" > compare.log ||
      { cat compare.log; echo "FAIL: epoch $epoch of $1 and $2 differ beyond $3"; exit 1; }
  done
  echo "$1 vs $2: $(cat compare.log)"
}

run 1 one 3 > one.log
run 2 two 3 > two.log
same one two 1e-6

# Each epoch's samples, over both processes, are 0..29 once each.
expected=$(seq 0 29)
for epoch in 0 1 2; do
  got=$(cat two/visits-0.txt two/visits-1.txt | awk -v e="$epoch" '$1 == e { print $2 }' | sort -n)
  if [[ "$got" != "$expected" ]]; then
    echo "FAIL: epoch $epoch: the two processes were given these samples: $(echo $got)"
    exit 1
  fi
  # and each process a share of every batch (15 of 30)
  for rank in 0 1; do
    count=$(awk -v e="$epoch" '$1 == e' "two/visits-$rank.txt" | wc -l)
    ((count == 15)) || { echo "FAIL: epoch $epoch: rank $rank was given $count samples, not 15"; exit 1; }
  done
done
echo "every sample once per epoch, 15 per process"

for np in 2 3; do
  run "$np" "det${np}a" 3 --deterministic > "det${np}a.log"
  run "$np" "det${np}b" 3 --deterministic > "det${np}b.log"
  same "det${np}a" "det${np}b" 0
  "$dp_train" compare "det${np}a/checkpoint.safetensors" "det${np}b/checkpoint.safetensors" 0 ||
    { echo "FAIL: deterministic checkpoints on $np processes differ"; exit 1; }
done
same one det3a 1e-6

# Killed at the 7th step (4 steps an epoch: the 3rd of epoch 2); then resumed on 2 processes and, from a copy, on 1.
set +e
run 2 killed 3 --kill-at-step 7 > killed.log 2>&1
status=$?
set -e
((status != 0)) || { cat killed.log; echo "FAIL: the run was not killed"; exit 1; }
[[ -f killed/model-epoch1.safetensors && ! -e killed/model-epoch2.safetensors ]] ||
  { ls killed; echo "FAIL: the killed run should hold epoch 1's files only"; exit 1; }
cp -r killed killed_then_one
run 2 killed 3 --resume > resumed2.log
same two killed 0
run 1 killed_then_one 3 --resume > resumed1.log
same one killed_then_one 1e-6
# BatchNorm is per process: after one step, rank 0's running statistics are those of its own 4 rows, which is
# what one process with batch 4 computes (its first batch is the same 4 samples with the same noise), and they
# differ from a one-process batch of 8.
run 2 bn_two 1 --batchnorm --steps-per-epoch 1 > bn_two.log
run 1 bn_four 1 --batchnorm --steps-per-epoch 1 --batch 4 > bn_four.log
run 1 bn_eight 1 --batchnorm --steps-per-epoch 1 > bn_eight.log
"$dp_train" compare bn_two/model-epoch1.safetensors bn_four/model-epoch1.safetensors 0 running_ > compare.log ||
  { cat compare.log; echo "FAIL: rank 0's BatchNorm statistics are not those of its own rows"; exit 1; }
echo "per-process BatchNorm: rank 0's running statistics = one process's on batch 4: $(cat compare.log)"
if "$dp_train" compare bn_two/model-epoch1.safetensors bn_eight/model-epoch1.safetensors 0 running_mean > compare.log; then
  echo "FAIL: the running statistics equal those of the whole batch of 8, so BatchNorm is not per process"
  exit 1
fi
echo "PASS"
