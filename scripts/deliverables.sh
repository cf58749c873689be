#!/usr/bin/env bash
# Every deliverable of the assignment, from a fresh Debian 12 machine to the website that hands them in:
#   scripts/deliverables.sh --preset quick     Parts 1-3 and PyTorch's examples (Part 3 alone: 27 minutes on a 2-core CPU)
#   scripts/deliverables.sh                    the assignment's settings (days on a CPU; hours on a GPU)
# Ends with runs/site/index.html (D14): every figure, number and written answer, opened from disk.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/quietly.sh
scripts/part1.sh "$@"
scripts/part2.sh "$@"
scripts/part3.sh "$@"
scripts/pytorch_examples.sh "$@"
quietly "build report" cmake --build build -j"$(nproc)" --target report
build/examples/report --runs runs
