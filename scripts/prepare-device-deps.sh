#!/usr/bin/env bash
# Prepares third_party/device/ (git-ignored) for a GPU machine that reaches no package registry: copies of the
# headers of Eigen, nlohmann_json and doctest, zlib's headers and static library, and MNIST (gzipped). The device
# tool's `carry` takes this folder along; scripts/device-check.sh points CMake at it (UNETFLOW_DEPS).
#   scripts/prepare-device-deps.sh [data/mnist]
set -euo pipefail
cd "$(dirname "$0")/.."
mnist=${1:-data/mnist}
dest=third_party/device
for f in /usr/include/eigen3/Eigen/Core /usr/include/nlohmann/json.hpp /usr/include/doctest/doctest.h /usr/include/zlib.h \
         /usr/lib/x86_64-linux-gnu/libz.a; do
  [ -e "$f" ] || { echo "prepare-device-deps: $f is missing: run scripts/setup.sh first." >&2; exit 1; }
done
rm -rf "$dest"
mkdir -p "$dest/include" "$dest/lib" "$dest/mnist"
cp -r /usr/include/eigen3 /usr/include/nlohmann /usr/include/doctest "$dest/include/"
cp /usr/include/zlib.h /usr/include/zconf.h "$dest/include/"
cp /usr/lib/x86_64-linux-gnu/libz.a "$dest/lib/"
if [ -d "$mnist" ]; then
  for f in "$mnist"/*-ubyte; do gzip -9c "$f" > "$dest/mnist/$(basename "$f").gz"; done
else
  echo "prepare-device-deps: no MNIST at $mnist, so the device check will skip the 5-epoch run." >&2
fi
du -sh "$dest"
