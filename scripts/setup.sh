#!/usr/bin/env bash
# Installs every Debian package unetflow needs that is missing. Safe to run twice.
#   scripts/setup.sh            build + test dependencies
#   scripts/setup.sh --torch    also PyTorch + OpenBLAS (fixture generation, interop and speed comparisons)
set -euo pipefail
source "$(dirname "$0")/quietly.sh"

packages=(
  build-essential cmake pkg-config
  libeigen3-dev libopenblas-openmp-dev xtensor-dev xtl-dev libxsimd-dev
  doctest-dev libbenchmark-dev
  zlib1g-dev libcli11-dev nlohmann-json3-dev libstb-dev
  gnuplot-nox libomp-dev
  dataset-fashion-mnist
)
if [[ "${1:-}" == "--torch" ]]; then
  packages+=(python3-torch python3-numpy libopenblas0 libopenblas0-pthread)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi
sudo_cmd=""
[[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
export DEBIAN_FRONTEND=noninteractive
quietly "setup: apt-get update" $sudo_cmd apt-get update -qq
quietly "setup: installing ${missing[*]}" $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
