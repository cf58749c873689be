// The CUDA test suite's entry point: without a usable GPU every test is skipped (CTest's code 77).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <unetflow/backend/cuda.hpp>

int main(int argc, char** argv) {
  if (!unetflow::cuda::available()) {
    std::puts("skipped: no CUDA device here (the CUDA tests need a GPU; scripts/device-check.sh runs them on one)");
    return 77;
  }
  std::printf("CUDA device: %s\n", unetflow::cuda::device_name().c_str());
  doctest::Context context(argc, argv);
  return context.run();
}
