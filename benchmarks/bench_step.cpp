// Whole training steps for the three SPEC configurations (torch_ref.py's CONFIGS), images/s and GFLOP/s.
// benchmarks/compare_pytorch.sh runs this beside the PyTorch reference and prints the ratios.
#include <benchmark/benchmark.h>

#include "training_step.hpp"

namespace {

// Work per training image (SPEC section 5): forward + backward.
constexpr double gflop_d128 = 6.42, gflop_d64 = 1.61;

template <class Model>
void run(benchmark::State& state, int batch, double lr, double gflop_per_image) {
  bench::TrainingStep<Model> step(batch, lr);
  step();  // warm-up: buffers reach their size
  for (auto _ : state) benchmark::DoNotOptimize(step());
  state.counters["images/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(double(batch) * gflop_per_image, benchmark::Counter::kIsIterationInvariantRate);
}

void denoiser_D128_B256(benchmark::State& s) { run<unetflow::UNet<1, 28, 28, 128>>(s, 256, 1e-4, gflop_d128); }
void fm_time_D64_B64(benchmark::State& s) { run<unetflow::TimeUNet<1, 28, 28, 64>>(s, 64, 1e-2, gflop_d64); }
void fm_class_D64_B64(benchmark::State& s) { run<unetflow::ClassTimeUNet<1, 28, 28, 64, 10>>(s, 64, 1e-2, gflop_d64); }

}  // namespace

BENCHMARK(denoiser_D128_B256)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(fm_time_D64_B64)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(fm_class_D64_B64)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK_MAIN();
