#!/usr/bin/env bash
# The deliverables website in a real browser: every example program makes its deliverable on a small synthetic
# data set (the examples test's sizes), report builds the site, the site is copied to another folder and opened
# there in headless Chromium (check_site.mjs: images load, no console errors, D1-D13 present, screenshots at 1280
# and 390 px, a PDF print).
#   site_test.sh EXAMPLES_DIR SYNTHETIC_MNIST WORK_DIR
# Exit status 77 (CTest: skipped) when Chromium or puppeteer-core is not installed (scripts/setup.sh installs both).
set -euo pipefail
bin=$1 synthetic=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -x /usr/bin/chromium ]]; then echo "skipped: no /usr/bin/chromium (scripts/setup.sh installs Debian's chromium)"; exit 77; fi
if ! command -v node > /dev/null; then echo "skipped: no node (scripts/setup.sh installs Debian's nodejs)"; exit 77; fi
if [[ ! -d $here/node_modules/puppeteer-core ]]; then echo "skipped: no puppeteer-core (scripts/setup.sh runs npm ci in tests/browser)"; exit 77; fi

rm -rf "$work"
mkdir -p "$work"
runs=$work/runs
"$synthetic" "$work/mnist"
"$synthetic" "$work/fashion-mnist"
step() { echo "+ ${*##*/}" | cut -c1-160; "$@" > "$work/last.log" 2>&1 || { cat "$work/last.log"; echo "FAIL: $1 exited with $?"; exit 1; }; }
part1="--hidden 16 --epochs 2 --batch 32 --steps-per-epoch 2 --eval-images 40 --quiet"
flow="--hidden 16 --epochs 2 --batch 32 --steps-per-epoch 2 --sample-steps 3 --quiet"
mnist=(--data "$work/mnist" --runs "$runs")
fashion=(--data "$work/fashion-mnist" --runs "$runs")
step "$bin/noising_figure" "${mnist[@]}"
step "$bin/train_denoiser" "${mnist[@]}" $part1
step "$bin/train_pure_noise" "${mnist[@]}" $part1
step "$bin/train_classifier" "${mnist[@]}" --epochs 1 --batch 64 --quiet
step "$bin/train_flow" "${mnist[@]}" $flow
step "$bin/train_flow" "${mnist[@]}" --classes $flow
step "$bin/train_flow" "${mnist[@]}" --classes --no-scheduler $flow
step "$bin/train_flow" "${mnist[@]}" --better --score-samples 20 $flow
step "$bin/train_classifier" "${fashion[@]}" --epochs 1 --batch 64 --quiet
step "$bin/train_flow" "${fashion[@]}" --name fashion_time $flow
step "$bin/train_flow" "${fashion[@]}" --classes --name fashion_class $flow
step "$bin/report" --runs "$runs"
cat "$work/last.log"
if grep -q "^warning" "$work/last.log"; then echo "FAIL: report warned about runs the programs just wrote"; exit 1; fi

# The site works from a copy in another folder: no absolute path, nothing outside the site.
cp -r "$runs/site" "$work/copied-site"
rm -rf "$runs"
node "$here/check_site.mjs" "$work/copied-site" "$work/screenshots"
