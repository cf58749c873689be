#!/usr/bin/env bash
# Crash test: a short train_flow run is killed with SIGKILL at one write after another (each write once with its
# temporary complete but not yet renamed, once just after the rename; io/atomic_file.hpp's UNETFLOW_CRASH_AT),
# then resumed without a crash until it finishes. Every time, each epoch's files must be there, no temporary may be
# left, and every epoch's weights must equal an uninterrupted run's, byte for byte.
#   crash_test.sh EXAMPLES_DIR SYNTHETIC_MNIST WORK_DIR
set -euo pipefail
bin=$1 synthetic=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$synthetic" "$work/mnist" 96 24
flags=(--data "$work/mnist" --hidden 16 --epochs 3 --batch 32 --steps-per-epoch 2 --sample-steps 2 --threads 2 --quiet)

"$bin/train_flow" "${flags[@]}" --runs "$work/reference" > "$work/reference.log" 2>&1 || { cat "$work/reference.log"; exit 1; }
reference=$work/reference/flow_time
epochs=(1 2 3)

crashes=0
for ((n = 1; ; ++n)); do
  finished_without_crash=0
  for stage in "" ":renamed"; do
    runs=$work/crash_$n${stage#:}
    set +e
    { UNETFLOW_CRASH_AT="$n$stage" "$bin/train_flow" "${flags[@]}" --runs "$runs" > "$runs.log" 2>&1; } 2> /dev/null  # (bash's "Killed")
    status=$?
    set -e
    if ((status == 0)); then
      finished_without_crash=1
      continue
    fi
    if ((status != 137)); then
      cat "$runs.log"
      echo "FAIL: write $n$stage: the run ended with status $status instead of being killed (137)"
      exit 1
    fi
    crashes=$((crashes + 1))
    # Resume (or start again, when the crash came before the first checkpoint) without a crash, to the end.
    resume=()
    [[ -f $runs/flow_time/checkpoint.safetensors ]] && resume=(--resume)
    if ! "$bin/train_flow" "${flags[@]}" --runs "$runs" "${resume[@]}" > "$runs.resume.log" 2>&1; then
      cat "$runs.resume.log"
      echo "FAIL: write $n$stage: the run after the crash did not finish"
      exit 1
    fi
    dir=$runs/flow_time
    for e in "${epochs[@]}"; do
      if ! cmp -s "$reference/model-epoch$e.safetensors" "$dir/model-epoch$e.safetensors"; then
        echo "FAIL: write $n$stage: model-epoch$e.safetensors differs from the uninterrupted run's (or is missing)"
        exit 1
      fi
    done
    for f in "$reference"/*; do
      name=${f##*/}
      if [[ ! -s $dir/$name ]]; then
        echo "FAIL: write $n$stage: $name is missing after the resumed run"
        exit 1
      fi
    done
    if compgen -G "$dir/*.tmp" > /dev/null; then
      echo "FAIL: write $n$stage: a temporary was left: $(ls "$dir"/*.tmp)"
      exit 1
    fi
    rm -rf "$runs"
  done
  ((finished_without_crash)) && break
done
echo "crash test: $crashes kills (at each of $((n - 1)) writes, before and after its rename), every resumed run equal to the uninterrupted one"
