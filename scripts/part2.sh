#!/usr/bin/env bash
# Part 2 of the assignment from nothing to the figures (D7-D11), plus the classifier that scores them:
#   scripts/part2.sh                   the assignment's settings (D=64, batch 64, 10 epochs: hours on a CPU)
#   scripts/part2.sh --preset quick    every file of D7-D11, scored, in about 13 minutes on a 2-core CPU
# Extra arguments go to the three train_flow runs (for example --threads 2, --resume).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/quietly.sh
scripts/setup.sh
scripts/fetch_mnist.sh data/mnist
quietly "configure (build/)" cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
quietly "build train_classifier train_flow sample score" cmake --build build -j"$(nproc)" --target train_classifier train_flow sample score
scripts/classifier.sh data/mnist
build/examples/train_flow --data data/mnist "$@"                                # D7, D8
build/examples/train_flow --data data/mnist --classes "$@"                      # D9, D10
build/examples/train_flow --data data/mnist --classes --no-scheduler "$@"       # D11
echo "Part 2 done: runs/flow_time, runs/flow_class, runs/flow_class_noscheduler (scores in each summary.json)"
