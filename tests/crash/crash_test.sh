#!/usr/bin/env bash
# Crash test: a short train_flow run is killed with SIGKILL at one write after another (each write once with its
# temporary complete but not yet renamed, once just after the rename; io/atomic_file.hpp's UNETFLOW_CRASH_AT),
# then finished without a crash. Every time, each epoch's files must be there, no temporary may be left, and every
# epoch's weights must equal an uninterrupted run's, byte for byte (common.sh).
#   crash_test.sh EXAMPLES_DIR SYNTHETIC_MNIST WORK_DIR
set -euo pipefail
bin=$1 synthetic=$2 work=$3
source "$(dirname "$0")/common.sh"
rm -rf "$work"
mkdir -p "$work"
make_reference

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
    finish_and_compare "$runs" "killed at write $n$stage"
    rm -rf "$runs"
  done
  ((finished_without_crash)) && break
done
echo "crash test: $crashes kills (at each of $((n - 1)) writes, before and after its rename), every resumed run equal to the uninterrupted one"
