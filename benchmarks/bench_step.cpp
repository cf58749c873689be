// Whole training steps for the three SPEC configurations (torch_ref.py's CONFIGS), images/s and GFLOP/s.
// Also the SGEMM roofline and CFG sampling. benchmarks/compare_pytorch.py runs this beside the PyTorch reference and prints the ratios.
#include <benchmark/benchmark.h>

#include <vector>

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

// The machine's SGEMM rate through the same cpu::gemm the layers use (n = 2048, all threads): the roofline.
void sgemm_2048(benchmark::State& state) {
  const int n = 2048;
  std::vector<float> a(std::size_t(n) * n, 0.5f), b(a), c(a.size());
  unetflow::cpu::gemm(false, false, n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n);
  for (auto _ : state) {
    unetflow::cpu::gemm(false, false, n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// torch_ref.py sample: 40 class-conditioned digits (4 of each), T = 50 Euler steps, CFG gamma 5, D = 64, eval mode.
void cfg_sample_40_T50_D64(benchmark::State& state) {
  using Model = unetflow::ClassTimeUNet<1, 28, 28, 64, 10>;
  auto model = std::make_unique<Model>();
  unetflow::Rng rng(0);
  unetflow::reset_parameters(*model, rng);
  std::vector<int> labels(40);
  for (int i = 0; i < 40; ++i) labels[std::size_t(i)] = i % 10;
  unetflow::FlowSampler<Model> sampler;
  sampler.sample(*model, labels, 5.0, 2, rng);  // warm-up: buffers reach their size
  for (auto _ : state) benchmark::DoNotOptimize(sampler.sample(*model, labels, 5.0, 50, rng).data);
}

}  // namespace

BENCHMARK(sgemm_2048)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(cfg_sample_40_T50_D64)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(denoiser_D128_B256)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(fm_time_D64_B64)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(10);
BENCHMARK(fm_class_D64_B64)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(10);
BENCHMARK_MAIN();
