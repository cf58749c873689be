#!/usr/bin/env bash
# Prepares third_party/device/ (git-ignored) for a GPU machine that reaches no package registry: copies of the
# headers of Eigen, nlohmann_json and doctest, zlib's headers and static library, and MNIST (gzipped). The device
# tool's `carry` takes this folder along; scripts/device-check.sh points CMake at it (UNETFLOW_DEPS).
#   scripts/prepare-device-deps.sh [MNIST_DIR [DEST]]     (data/mnist and third_party/device by default)
set -euo pipefail
cd "$(dirname "$0")/.."
mnist=${1:-data/mnist}
dest=${2:-third_party/device}
for f in /usr/include/eigen3/Eigen/Core /usr/include/nlohmann/json.hpp /usr/include/doctest/doctest.h /usr/include/zlib.h \
         /usr/lib/x86_64-linux-gnu/libz.a; do
  [ -e "$f" ] || { echo "prepare-device-deps: $f is missing: run scripts/setup.sh first." >&2; exit 1; }
done
rm -rf "$dest"
mkdir -p "$dest/include" "$dest/lib" "$dest/mnist"
cp -r /usr/include/eigen3 /usr/include/nlohmann /usr/include/doctest "$dest/include/"
cp /usr/include/zlib.h /usr/include/zconf.h "$dest/include/"
cp /usr/lib/x86_64-linux-gnu/libz.a "$dest/lib/"
# MNIST gzipped, whichever way the folder holds each file (raw files are compressed, .gz files copied as they are)
copied=0
if [ -d "$mnist" ]; then
  for stem in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    if [ -f "$mnist/$stem" ]; then
      gzip -9c "$mnist/$stem" > "$dest/mnist/$stem.gz"
    elif [ -f "$mnist/$stem.gz" ]; then
      cp "$mnist/$stem.gz" "$dest/mnist/"
    else
      continue
    fi
    copied=$((copied + 1))
  done
fi
if ((copied < 4)); then
  rm -rf "$dest/mnist"
  echo "prepare-device-deps: $mnist does not hold the four MNIST files (raw or .gz), so the device check will skip" \
    "the 5-epoch run." >&2
fi
du -sh "$dest"
