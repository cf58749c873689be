#!/usr/bin/env bash
# PyTorch's examples, ported (examples/pytorch/; the site's P1, P2 and P3):
#   scripts/pytorch_examples.sh                   the originals' settings: the classifier 14 epochs, the VAE 10, DCGAN
#                                                 5 on MNIST and on Fashion-MNIST, then each port beside its original
#                                                 over three seeds (needs --torch's packages; about four hours on a
#                                                 2-core CPU)
#   scripts/pytorch_examples.sh --preset quick    the classifier 1 epoch, the VAE 2, DCGAN 1 on a tenth of each set, no
#                                                 comparison (about two minutes)
# --threads N and --device D go to both ports; other arguments (deliverables.sh passes its own, such as --resume)
# are for the assignment's programs and are left out here.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/quietly.sh
quick=0
args=()
while (($#)); do
  if [[ $1 == --preset ]]; then
    [[ ${2:-} == quick || ${2:-} == full ]] || { echo "pytorch_examples.sh: --preset takes quick or full" >&2; exit 2; }
    [[ $2 == quick ]] && quick=1
    shift 2
  elif [[ $1 == --threads || $1 == --device ]] && (($# >= 2)); then
    args+=("$1" "$2")
    shift 2
  else
    shift
  fi
done
scripts/setup.sh
scripts/fetch_mnist.sh data/mnist
quietly "configure (build/)" cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
quietly "build the ports, train_classifier and score" cmake --build build -j"$(nproc)" \
  --target pytorch_mnist pytorch_vae pytorch_dcgan train_classifier score
fashion=/usr/share/datasets/fashion-mnist
if ((quick)); then
  build/examples/pytorch_mnist --data data/mnist --epochs 1 --log-interval 200 "${args[@]}"
  build/examples/pytorch_vae --data data/mnist --epochs 2 --log-interval 200 "${args[@]}"
  build/examples/pytorch_dcgan --data data/mnist --epochs 1 --train-images 6000 --quiet --name pytorch_dcgan_mnist \
    "${args[@]}"
  build/examples/pytorch_dcgan --data "$fashion" --epochs 1 --train-images 6000 --quiet --name pytorch_dcgan_fashion \
    "${args[@]}"
  echo "PyTorch's examples done: runs/pytorch_mnist, runs/pytorch_vae, runs/pytorch_dcgan_mnist," \
    "runs/pytorch_dcgan_fashion; beside the originals (needs scripts/setup.sh --torch): /usr/bin/python3" \
    "benchmarks/pytorch_examples.py mnist|vae|dcgan --run-folder runs/pytorch_<example>_vs_original"
  exit 0
fi
build/examples/pytorch_mnist --data data/mnist --log-interval 200 "${args[@]}"
build/examples/pytorch_vae --data data/mnist --log-interval 200 "${args[@]}"
build/examples/pytorch_dcgan --data data/mnist --epochs 5 --quiet --name pytorch_dcgan_mnist "${args[@]}"
build/examples/pytorch_dcgan --data "$fashion" --epochs 5 --quiet --name pytorch_dcgan_fashion "${args[@]}"
scripts/setup.sh --torch
scripts/classifier.sh data/mnist
scripts/classifier.sh "$fashion"
/usr/bin/python3 benchmarks/pytorch_examples.py mnist --run-folder runs/pytorch_mnist_vs_original
/usr/bin/python3 benchmarks/pytorch_examples.py vae --run-folder runs/pytorch_vae_vs_original
/usr/bin/python3 benchmarks/pytorch_examples.py dcgan --dataset mnist --epochs 1 \
  --run-folder runs/pytorch_dcgan_mnist_vs_original
/usr/bin/python3 benchmarks/pytorch_examples.py dcgan --dataset fashion-mnist --epochs 1 \
  --run-folder runs/pytorch_dcgan_fashion_vs_original
echo "PyTorch's examples done: runs/pytorch_mnist, runs/pytorch_vae, runs/pytorch_dcgan_mnist," \
  "runs/pytorch_dcgan_fashion, and beside the originals runs/pytorch_<example>_vs_original"
