#!/usr/bin/env bash
# The scoring classifier of a data set, trained when there is none or when it is of an earlier layout (its metadata
# names the model and the data set's fingerprint); an earlier run is moved aside, not deleted.
#   scripts/classifier.sh DATA-DIR [FLAGS]   (build/examples/train_classifier must be built; FLAGS go to it, e.g.
#                                            --epochs 40 for a set as small as the emoji, which 1 epoch leaves untrained)
# It goes where train_flow and score look for it: runs/classifier for data/mnist, runs/classifier_<folder> else.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: scripts/classifier.sh DATA-DIR [train_classifier flags]}
shift
folder=$(basename "${data%/}")
run=classifier
[[ "$(realpath -m "$data")" == "$(realpath -m data/mnist)" ]] || run="classifier_$folder"
file=runs/$run/classifier.safetensors
if [[ -f $file ]] && grep -qa 'W=32,flat-head' "$file" && grep -qa 'data_fingerprint' "$file"; then
  echo "classifier of $data: $file"
  exit 0
fi
[[ -d runs/$run ]] && mv "runs/$run" "runs/$run.earlier-$(date +%Y%m%d-%H%M%S)"
epochs=(--epochs 1)
for flag in "$@"; do [[ $flag == --epochs* ]] && epochs=(); done
build/examples/train_classifier --data "$data" --name "$run" "${epochs[@]}" --quiet "$@"
