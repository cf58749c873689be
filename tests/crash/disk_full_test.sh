#!/usr/bin/env bash
# Disk-full test: a short train_flow run writes its run folder onto small tmpfs mounts, sized to fill up at
# different writes. Each time the run must stop with one sentence naming the file and "No space left on device",
# leave no temporary and no cut file (every file there is the complete previous or new one), and, copied to a
# disk with room and finished, end with weights byte-identical to an uninterrupted run (common.sh).
#   disk_full_test.sh EXAMPLES_DIR SYNTHETIC_MNIST WORK_DIR
# Exit status 77 (CTest: skipped) where tmpfs cannot be mounted (not root, or a container that forbids it).
set -euo pipefail
bin=$1 synthetic=$2 work=$3
source "$(dirname "$0")/common.sh"
if [[ -d $work ]]; then umount "$work"/disk_* 2> /dev/null || true; fi
rm -rf "$work"
mkdir -p "$work/probe"
if ! mount -t tmpfs -o size=64k tmpfs "$work/probe" 2> /dev/null; then
  echo "skipped: cannot mount a tmpfs here (needs root)"
  exit 77
fi
umount "$work/probe"
make_reference

# The reference run ends with about 3.6 MB in its folder and needs about 4.3 MB while it replaces a checkpoint;
# these sizes fill up at a checkpoint, an .npy, a PNG, an epoch's weights and later checkpoints.
for kb in ${UNETFLOW_DISK_SIZES:-700 1600 1700 2000 3000 3700}; do
  disk=$work/disk_$kb
  mkdir -p "$disk"
  mount -t tmpfs -o size=${kb}k tmpfs "$disk"
  trap 'umount "$disk" 2> /dev/null || true' EXIT
  set +e
  "$bin/train_flow" "${flags[@]}" --runs "$disk" > "$disk.log" 2>&1
  status=$?
  set -e
  if ((status != 1)) || ! grep -q "^error: cannot .*: No space left on device" "$disk.log"; then
    cat "$disk.log"
    echo "FAIL: ${kb} KB: expected one 'error: cannot write ...: No space left on device' and exit status 1 (got $status)"
    exit 1
  fi
  dir=$disk/flow_time
  if compgen -G "$dir/*.tmp" > /dev/null; then
    echo "FAIL: ${kb} KB: a temporary was left: $(ls "$dir"/*.tmp)"
    exit 1
  fi
  # Every weights file there is whole: the same bytes as the uninterrupted run's.
  for f in "$dir"/model-epoch*.safetensors; do
    [[ -e $f ]] || continue
    cmp -s "$f" "$reference/${f##*/}" || { echo "FAIL: ${kb} KB: ${f##*/} is cut or differs"; exit 1; }
  done
  resumed=$work/resumed_$kb
  mkdir -p "$resumed"
  cp -r "$dir" "$resumed/"
  umount "$disk"
  trap - EXIT
  finish_and_compare "$resumed" "${kb} KB, copied to a disk with room"
  echo "${kb} KB: $(grep -o "cannot [a-z]* [^ :]*" "$disk.log" | head -1 | sed "s|$work/||"); resumed elsewhere, weights equal"
done
