#!/usr/bin/env bash
# Part 3 of the assignment ("Bells & Whistles"), every run scored by a classifier of its own data set:
#   D12  a better time-only model than Part 2's (train_flow --better), beside Part 2's at the same noise
#   D13  flow matching on Fashion-MNIST (Debian's dataset-fashion-mnist), time-only and class-conditioned
#   E    emoji, a real colour data set (scripts/make_emoji.sh, from Debian's colour emoji font): class-conditioned
#        and time-only ResUNets
#   G    the guidance sweep: 500 samples at each gamma of the class-conditioned MNIST (D10) and emoji models
#   scripts/part3.sh                   the assignment's settings (hours on a CPU)
#   scripts/part3.sh --preset quick    all of it in about 30 minutes on a 2-core CPU
# Extra arguments go to every train_flow run (for example --threads 2, --resume).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/quietly.sh
scripts/setup.sh
scripts/fetch_mnist.sh data/mnist
scripts/make_emoji.sh data/emoji
fashion=/usr/share/datasets/fashion-mnist
quick=false
previous=""
for arg in "$@"; do
  [[ $arg == --preset=quick || ($previous == --preset && $arg == quick) ]] && quick=true
  previous=$arg
done
quietly "configure (build/)" cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
quietly "build train_classifier train_flow sample score" cmake --build build -j"$(nproc)" --target train_classifier train_flow sample score
scripts/classifier.sh data/mnist
# D12: Part 2's time-only run is the reference; it is run first when Part 2 has not been.
if ! compgen -G "runs/flow_time/d8_samples_epoch*.npy" > /dev/null; then
  build/examples/train_flow --data data/mnist "$@"                                   # D7, D8 (the reference)
fi
build/examples/train_flow --data data/mnist --better "$@"                            # D12
scripts/classifier.sh "$fashion"
build/examples/train_flow --data "$fashion" --name fashion_time "$@"                  # D13, time-only
build/examples/train_flow --data "$fashion" --classes --name fashion_class "$@"       # D13, class-conditioned
# Emoji: 1,687 training images, so a run is many short epochs; a residual UNet with attention at 8x8, mirrored
# images, a gentler learning rate than the digits' and a short moving average whose batch-norm statistics are
# recomputed over 4 batches at every epoch's weights file (docs/part3.md has the runs behind it).
scripts/classifier.sh data/emoji --epochs 40 --flip
emoji=(--data data/emoji --arch residual --flip --lr 2e-3 --ema 0.995 --stats-batches 4 --per-digit 8)
if $quick; then emoji+=(--hidden 32 --epochs 30); else emoji+=(--hidden 64 --epochs 200); fi
build/examples/train_flow "${emoji[@]}" --classes --name emoji_class "$@"           # E, class-conditioned
build/examples/train_flow "${emoji[@]}" --name emoji_time "$@"                      # E, time-only
# G: the guidance sweep of the class-conditioned models (D10's is Part 2's; it is run first when missing).
if ! compgen -G "runs/flow_class/model-epoch*.safetensors" > /dev/null; then
  build/examples/train_flow --data data/mnist --classes "$@"                         # D9, D10
fi
newest() { ls -v "$1"/model-epoch*.safetensors | tail -1; }
gammas=0,1,2,3,5,7.5
build/examples/sample "$(newest runs/flow_class)" --gamma-sweep $gammas --data data/mnist --out runs/guidance_mnist
build/examples/sample "$(newest runs/emoji_class)" --gamma-sweep $gammas --data data/emoji --out runs/guidance_emoji
echo "Part 3 done: runs/flow_better, runs/fashion_time, runs/fashion_class, runs/emoji_class, runs/emoji_time," \
  "runs/guidance_mnist, runs/guidance_emoji (scores in each summary.json)"
