# Sourced by crash_test.sh and disk_full_test.sh: the short train_flow run they interrupt, its uninterrupted
# reference, and what must hold once an interrupted run has been finished. Needs $bin, $synthetic and $work.

# Data, flags and the uninterrupted reference run ($reference: its run folder).
make_reference() {
  "$synthetic" "$work/mnist" 96 24
  flags=(--data "$work/mnist" --hidden 16 --epochs 3 --batch 32 --steps-per-epoch 2 --sample-steps 2 --threads 2 --quiet)
  "$bin/train_flow" "${flags[@]}" --runs "$work/reference" > "$work/reference.log" 2>&1 || { cat "$work/reference.log"; exit 1; }
  reference=$work/reference/flow_time
}

# finish_and_compare RUNS WHAT: finishes the run in RUNS without interruption (resumed from its checkpoint, or started
# again when it stopped before the first one), then requires every file of the reference run, no temporary, and
# every epoch's weights byte-identical to the reference's. WHAT names the case in a failure.
finish_and_compare() {
  local runs=$1 what=$2 dir=$1/flow_time resume=() f
  [[ -f $dir/checkpoint.safetensors ]] && resume=(--resume)
  if ! "$bin/train_flow" "${flags[@]}" --runs "$runs" "${resume[@]}" > "$runs.finish.log" 2>&1; then
    cat "$runs.finish.log"
    echo "FAIL: $what: the run did not finish afterwards"
    exit 1
  fi
  for f in "$reference"/*; do
    [[ -s $dir/${f##*/} ]] || { echo "FAIL: $what: ${f##*/} is missing after the finished run"; exit 1; }
  done
  for f in "$reference"/model-epoch*.safetensors; do
    cmp -s "$f" "$dir/${f##*/}" || { echo "FAIL: $what: ${f##*/} differs from the uninterrupted run's"; exit 1; }
  done
  if compgen -G "$dir/*.tmp" > /dev/null; then
    echo "FAIL: $what: a temporary was left: $(ls "$dir"/*.tmp)"
    exit 1
  fi
}
