#!/usr/bin/env bash
# Part 3 of the assignment ("Bells & Whistles"), every run scored by a classifier of its own data set:
#   D12  a better time-only model than Part 2's (train_flow --better), beside Part 2's at the same noise
#   D13  flow matching on Fashion-MNIST (Debian's dataset-fashion-mnist), time-only and class-conditioned
#   scripts/part3.sh                   the assignment's settings (hours on a CPU)
#   scripts/part3.sh --preset quick    D12 and D13 in about 17 minutes on a 2-core CPU
# Extra arguments go to every train_flow run (for example --threads 2, --resume).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/quietly.sh
scripts/setup.sh
scripts/fetch_mnist.sh data/mnist
fashion=/usr/share/datasets/fashion-mnist
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
echo "Part 3 done: runs/flow_better, runs/fashion_time, runs/fashion_class (scores in each summary.json)"
