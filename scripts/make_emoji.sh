#!/usr/bin/env bash
# Makes the emoji data set (Part 3's colour data) in data/emoji (or DIR): every fully-qualified emoji of Unicode's
# emoji-test.txt drawn from Debian's colour emoji font, 32 x 32 RGB, one class per group, as train/ and test/ image
# folders (examples/datasets/make_emoji.cpp says what is in it and what is left out, and why).
#   scripts/make_emoji.sh [DIR] [--size 64]
# A set already made there (its README.md and emoji.tsv present) is kept as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/quietly.sh
dir=data/emoji
if [[ $# -gt 0 && $1 != --* ]]; then dir=$1; shift; fi
font=/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
list=/usr/share/unicode/emoji/emoji-test.txt
[[ -f $font ]] || { echo "make_emoji: the emoji font $font is missing: run scripts/setup.sh (fonts-noto-color-emoji)." >&2; exit 1; }
[[ -f $list ]] || { echo "make_emoji: Unicode's emoji list $list is missing: run scripts/setup.sh (unicode-data)." >&2; exit 1; }
if [[ -f $dir/README.md && -f $dir/emoji.tsv ]]; then
  echo "make_emoji: the emoji set is already in $dir"
  exit 0
fi
quietly "configure (build/)" cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
quietly "build make_emoji" cmake --build build -j"$(nproc)" --target make_emoji
build/examples/make_emoji --out "$dir" --font "$font" --list "$list" "$@"
