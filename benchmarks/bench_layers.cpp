// Forward and backward of each layer at the shapes of the D=128 denoiser (SPEC section 1), batch 64.
// GFLOP/s counts the multiply-adds of convolutions (2 per MAC); element-wise layers report GB/s of tensors touched.
#include <benchmark/benchmark.h>

#include <memory>
#include <unetflow/unetflow.hpp>

namespace {

using namespace unetflow;
constexpr int batch = 64;

template <class S>
Tensor<S, cpu> random_tensor(Rng& rng) {
  Tensor<S, cpu> t(batch);
  rng.fill_normal(t.data(), t.numel());
  return t;
}

// A layer with parameters, its input and output shapes, and whether to time forward or backward.
template <class Layer, class In, bool Backward>
void layer_case(benchmark::State& state) {
  using Out = typename Layer::template output_shape<In>;
  auto layer = std::make_unique<Layer>();
  Rng rng(0);
  reset_parameters(*layer, rng);
  auto x = random_tensor<In>(rng);
  auto dy = random_tensor<Out>(rng);
  Tensor<Out, cpu> y(batch);
  Tensor<In, cpu> dx(batch);
  layer->forward(View<In, const float>(x), y.view());
  for (auto _ : state) {
    if constexpr (Backward) layer->backward(View<In, const float>(x), View<Out, const float>(dy), dx.view());
    else layer->forward(View<In, const float>(x), y.view());
    benchmark::ClobberMemory();
  }
  if constexpr (requires { Layer::template geometry<In>(); }) {
    const auto g = Layer::template geometry<In>();
    const double macs = double(g.co) * g.col_rows() * g.col_cols() * batch * (Backward ? 2 : 1);
    state.counters["GFLOP/s"] = benchmark::Counter(2 * macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  } else {
    const double bytes = 4.0 * batch * (In::size + Out::size) * (Backward ? 1.5 : 1);
    state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  }
}

template <class Layer, class In>
void add(const char* name) {
  benchmark::RegisterBenchmark((std::string(name) + "/forward").c_str(), layer_case<Layer, In, false>)
      ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
  benchmark::RegisterBenchmark((std::string(name) + "/backward").c_str(), layer_case<Layer, In, true>)
      ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
}

constexpr int D = 128;
const bool registered = [] {
  add<Conv2d<D, D, 3, 1, 1>, Shape<D, 28, 28>>("conv3x3_D_28");
  add<Conv2d<2 * D, D, 3, 1, 1>, Shape<2 * D, 28, 28>>("conv3x3_2D_to_D_28");
  add<Conv2d<D, D, 3, 1, 1>, Shape<D, 14, 14>>("conv3x3_D_14");
  add<Conv2d<2 * D, 2 * D, 3, 1, 1>, Shape<2 * D, 7, 7>>("conv3x3_2D_7");
  add<Conv2d<D, D, 3, 2, 1>, Shape<D, 28, 28>>("downconv_D_28_to_14");
  add<ConvTranspose2d<2 * D, D, 4, 2, 1>, Shape<2 * D, 14, 14>>("upconv_2D_to_D_14_to_28");
  add<ConvTranspose2d<4 * D, D, 4, 2, 1>, Shape<4 * D, 7, 7>>("upconv_4D_to_D_7_to_14");
  add<Conv2d<D, 1, 3, 1, 1>, Shape<D, 28, 28>>("conv3x3_D_to_1_28");
  add<Conv2d<64, 64, 3, 1, 1>, Shape<64, 28, 28>>("conv3x3_64_28");
  add<ConvTranspose2d<2 * D, 2 * D, 7, 7, 0>, Shape<2 * D, 1, 1>>("unflatten_2D_1_to_7");
  add<BatchNorm2d<D>, Shape<D, 28, 28>>("batchnorm_D_28");
  add<GELU<>, Shape<D, 28, 28>>("gelu_D_28");
  add<AvgPool2d<7>, Shape<2 * D, 7, 7>>("avgpool7_2D");
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
