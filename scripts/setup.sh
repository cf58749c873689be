#!/usr/bin/env bash
# Installs every Debian package unetflow needs that is missing. Safe to run twice.
#   scripts/setup.sh            build + test dependencies (Chromium and puppeteer-core for the website's browser test)
#   scripts/setup.sh --torch    also PyTorch, torchvision + OpenBLAS (fixtures, interop, speed comparisons, the originals of examples/pytorch/)
set -euo pipefail
source "$(dirname "$0")/quietly.sh"

packages=(
  build-essential cmake pkg-config
  libeigen3-dev libopenblas-openmp-dev xtensor-dev xtl-dev libxsimd-dev
  doctest-dev libbenchmark-dev
  zlib1g-dev libcli11-dev nlohmann-json3-dev libstb-dev
  gnuplot-nox libomp-dev
  dataset-fashion-mnist
  libkainjow-mustache-dev chromium fonts-dejavu-core
  libfreetype-dev libharfbuzz-dev fonts-noto-color-emoji unicode-data
  time
  clang libclang-rt-14-dev
  libopenmpi-dev openmpi-bin
)
# Node.js for the browser test: Debian's, unless the machine already has one (NodeSource's conflicts with Debian's npm).
if ! command -v node > /dev/null; then
  packages+=(nodejs npm)
elif ! command -v npm > /dev/null; then
  packages+=(npm)
fi
if [[ "${1:-}" == "--torch" ]]; then
  packages+=(python3-torch python3-torchvision python3-numpy libopenblas0 libopenblas0-pthread)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages already installed"
else
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  quietly "setup: apt-get update" $sudo_cmd apt-get update -qq
  quietly "setup: installing ${missing[*]}" $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# puppeteer-core (the version package-lock.json pins) drives Debian's Chromium in the website's browser test; without
# it that test is skipped, with a message.
browser_test="$(dirname "$0")/../tests/browser"
if [[ ! -d "$browser_test/node_modules/puppeteer-core" ]]; then
  printf 'setup: npm ci (puppeteer-core for tests/browser) ... '
  if log=$(npm ci --prefix "$browser_test" --no-audit --no-fund 2>&1); then
    echo done
  else
    echo "failed, so the browser test will be skipped:"
    echo "$log" | tail -5
  fi
fi