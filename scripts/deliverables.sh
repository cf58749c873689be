#!/usr/bin/env bash
# Every deliverable of the assignment, from a fresh Debian 12 machine to the figures:
#   scripts/deliverables.sh --preset quick     Parts 1-3 in about 35 minutes on a 2-core CPU
#   scripts/deliverables.sh                    the assignment's settings (days on a CPU; use a GPU when issue #5 lands)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/part1.sh "$@"
scripts/part2.sh "$@"
scripts/part3.sh "$@"
