// Writes a small MNIST-format data set (tests/synthetic_idx.hpp): the site test's stand-in for MNIST and
// Fashion-MNIST, so every example program can make its deliverable in seconds.
//   synthetic_mnist DIR [TRAIN_IMAGES TEST_IMAGES]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "synthetic_idx.hpp"

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::fprintf(stderr, "usage: synthetic_mnist DIR [TRAIN_IMAGES TEST_IMAGES]\n");
    return 2;
  }
  const long train = argc == 4 ? std::strtol(argv[2], nullptr, 10) : 192, test = argc == 4 ? std::strtol(argv[3], nullptr, 10) : 48;
  if (train < 10 || test < 10 || train > 100000 || test > 100000) {
    std::fprintf(stderr, "error: the image counts must be between 10 and 100000.\n");
    return 2;
  }
  synthetic::write_mnist_like(argv[1], "train", std::uint32_t(train));
  synthetic::write_mnist_like(argv[1], "t10k", std::uint32_t(test), true);
  return 0;
}
