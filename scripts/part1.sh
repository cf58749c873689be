#!/usr/bin/env bash
# Part 1 of the assignment from nothing to the figures (D1-D6):
#   scripts/part1.sh                   the assignment's settings (D=128, 5 epochs: hours on a 2-core CPU)
#   scripts/part1.sh --preset quick    every file of D1-D6 in about 4 minutes on a 2-core CPU
# Installs missing Debian packages, fetches MNIST, builds the examples, runs them; outputs under runs/.
# Extra arguments go to both training programs (for example --threads 2, --resume).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/quietly.sh
scripts/setup.sh
scripts/fetch_mnist.sh data/mnist
quietly "configure (build/)" cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
quietly "build noising_figure train_denoiser train_pure_noise" cmake --build build -j"$(nproc)" --target noising_figure train_denoiser train_pure_noise
build/examples/noising_figure --data data/mnist
build/examples/train_denoiser --data data/mnist "$@"
build/examples/train_pure_noise --data data/mnist "$@"
echo "Part 1 done: runs/noising, runs/denoiser, runs/pure_noise (each has a summary.json listing its files)"
