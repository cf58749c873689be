// The CUDA test suite's entry point: without a usable GPU every test is skipped (CTest's code 77); with one, the
// rule of filter_guard.hpp (a --test-case filter that matches no case fails).
#define DOCTEST_CONFIG_IMPLEMENT
#include <cstdio>
#include <unetflow/backend/cuda.hpp>

#include "../filter_guard.hpp"

int main(int argc, char** argv) {
  if (!unetflow::cuda::available()) {
    std::puts("skipped: no CUDA device here (the CUDA tests need a GPU; scripts/device-check.sh runs them on one)");
    return 77;
  }
  std::printf("CUDA device: %s\n", unetflow::cuda::device_name().c_str());
  return filter_guard::run(argc, argv);
}
