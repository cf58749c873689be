// Peak resident memory of one D=128, batch-256 denoiser training step (forward + backward + Adam), the figure
// PyTorch reaches 3.7-3.9 GB with on the 2-core development machine. Prints the peak and exits 1 above the limit
// given as the first argument in GB (default 1.85, half of PyTorch's).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "training_step.hpp"

int main(int argc, char** argv) {
  const double limit_gb = argc > 1 ? std::atof(argv[1]) : 1.85;
  bench::TrainingStep<unetflow::UNet<1, 28, 28, 128>> step(256, 1e-4);
  const auto t0 = std::chrono::steady_clock::now();
  const double loss = step();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double peak_gb = double(usage.ru_maxrss) * 1024 / 1e9;  // ru_maxrss is in KiB on Linux
  std::printf("D=128 batch=256 training step: loss %.4f, %.1f s, peak RSS %.2f GB (limit %.2f GB)\n", loss, seconds,
              peak_gb, limit_gb);
  return peak_gb <= limit_gb ? 0 : 1;
}
