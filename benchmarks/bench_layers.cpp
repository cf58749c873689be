// Forward and backward of each layer at the shapes of the D=128 denoiser (SPEC section 1), batch 64, and of the
// standard set (activations, pooling, up-sampling, normalisation, dropout, fused ConvBn blocks with GELU and ReLU),
// and PyTorch's MNIST example's network and its second convolution.
// GFLOP/s counts the multiply-adds of convolutions (2 per MAC); element-wise layers report GB/s of tensors touched,
// to set against copy_D_28 (a plain copy of the same bytes: the memory bandwidth) and, for pooling and up-sampling,
// against the simplest loop over the same streams (streams_*). compare_pytorch.py --layers
// puts PyTorch's time for the same operations beside them.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <memory>
#include <vector>
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

// A layer with parameters, its input and output shapes, and whether to time forward or backward. GB/s counts the
// tensors the pass touches: x and y forward; dy, dx and (unless ReadsInput is false) x backward.
template <class Layer, class In, bool Backward, bool ReadsInput = true>
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
    const double bytes = 4.0 * batch * (In::size + Out::size + (Backward && ReadsInput ? In::size : 0));
    state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  }
}

// A block (module interface: y = forward(x)), forward or forward + backward.
template <class Block, class In, bool Backward>
void block_case(benchmark::State& state) {
  using Out = typename Block::template output_shape<In>;
  auto block = std::make_unique<Block>();
  Rng rng(0);
  reset_parameters(*block, rng);
  auto x = random_tensor<In>(rng);
  auto dy = random_tensor<Out>(rng);
  Tensor<In, cpu> dx(batch);
  for (auto _ : state) {
    block->forward(View<In, const float>(x));
    if constexpr (Backward) block->backward(View<In, const float>(x), dy.view(), dx.view());
    benchmark::ClobberMemory();
  }
}
template <class Block, class In>
void add_block(const char* name) {
  benchmark::RegisterBenchmark((std::string(name) + "/forward").c_str(), block_case<Block, In, false>)
      ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
  benchmark::RegisterBenchmark((std::string(name) + "/forward_backward").c_str(), block_case<Block, In, true>)
      ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
}

// The memory bandwidth for element-wise layers: copying the bytes of one D x 28 x 28 batch (read and write).
void copy_case(benchmark::State& state) {
  using S = Shape<128, 28, 28>;
  Rng rng(0);
  auto x = random_tensor<S>(rng);
  Tensor<S, cpu> y(batch);
  for (auto _ : state) {
    cpu::copy_rows(View<S, const float>(x).rows(), y.view().rows(), batch, S::size);
    benchmark::ClobberMemory();
  }
  state.counters["GB/s"] = benchmark::Counter(4.0 * batch * 2 * S::size * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// The bound of a pooling or up-sampling pass: the simplest loop that reads and writes the same tensors in the same
// streams (M floats = a D x 28 x 28 batch, M/4 = its pooled or un-upsampled size), every byte once, in parallel as
// the layers are. A pass that moves more streams, or writes more than it reads, cannot reach a copy's GB/s.
enum class Streams { pool_forward, pool_backward, upsample_forward };
template <Streams P>
void streams_case(benchmark::State& state) {
  const std::ptrdiff_t m = std::ptrdiff_t(batch) * 128 * 28 * 28, q = m / 4;
  std::vector<float> big(static_cast<std::size_t>(m)), small(static_cast<std::size_t>(q)), out_big(big.size());
  Rng rng(0);
  rng.fill_normal(big.data(), big.size());
  rng.fill_normal(small.data(), small.size());
  const float *x = big.data(), *g = small.data();
  float *y = out_big.data(), *r = small.data();
  for (auto _ : state) {
    if constexpr (P == Streams::pool_forward) {  // reads M, writes M/4 (max pooling forward, up-sampling backward)
#pragma omp parallel for simd schedule(static)
      for (std::ptrdiff_t i = 0; i < q; ++i) r[i] = x[4 * i] + x[4 * i + 1] + x[4 * i + 2] + x[4 * i + 3];
    } else if constexpr (P == Streams::pool_backward) {  // reads M and M/4, writes M (max pooling backward)
#pragma omp parallel for simd schedule(static)
      for (std::ptrdiff_t i = 0; i < q; ++i)  // four stores a lane, not y[i] = x[i] + g[i / 4] (a gather: 3x slower)
        for (int j = 0; j < 4; ++j) y[4 * i + j] = x[4 * i + j] + g[i];
    } else {  // reads M/4, writes M (up-sampling forward)
#pragma omp parallel for simd schedule(static)
      for (std::ptrdiff_t i = 0; i < q; ++i)
        for (int j = 0; j < 4; ++j) y[4 * i + j] = g[i];
    }
    benchmark::ClobberMemory();
  }
  const double floats = P == Streams::pool_forward ? m + q : P == Streams::pool_backward ? 2 * m + q : m + q;
  state.counters["GB/s"] = benchmark::Counter(4.0 * floats * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

template <class Layer, class In, bool BackwardReadsInput = true>
void add(const char* name) {
  benchmark::RegisterBenchmark((std::string(name) + "/forward").c_str(), layer_case<Layer, In, false>)
      ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
  benchmark::RegisterBenchmark((std::string(name) + "/backward").c_str(), layer_case<Layer, In, true, BackwardReadsInput>)
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
  // The standard set.
  benchmark::RegisterBenchmark("copy_D_28", copy_case)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
  benchmark::RegisterBenchmark("streams_pool_forward_D_28", streams_case<Streams::pool_forward>)
      ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
  benchmark::RegisterBenchmark("streams_pool_backward_D_28", streams_case<Streams::pool_backward>)
      ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
  benchmark::RegisterBenchmark("streams_upsample_forward_D_28", streams_case<Streams::upsample_forward>)
      ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
  add<ReLU<>, Shape<D, 28, 28>>("relu_D_28");
  add<LeakyReLU<>, Shape<D, 28, 28>>("leaky_relu_D_28");
  add<SiLU<>, Shape<D, 28, 28>>("silu_D_28");
  add<MaxPool2d<2>, Shape<D, 28, 28>>("maxpool2_D_28");
  add<Upsample<2>, Shape<D, 14, 14>, false>("upsample_nearest_D_14");
  add<Upsample<2, UpsampleMode::bilinear>, Shape<D, 14, 14>, false>("upsample_bilinear_D_14");
  add<AdaptiveAvgPool2d<>, Shape<D, 28, 28>, false>("adaptive_avgpool_D_28");
  add<LayerNorm<Shape<D, 28, 28>>, Shape<D, 28, 28>>("layernorm_D_28");
  add<Dropout<>, Shape<D, 28, 28>>("dropout_D_28");
  add_block<Conv<D, D>, Shape<D, 28, 28>>("convbn_gelu_D_28");
  add_block<Conv<D, D, cpu, ReLU>, Shape<D, 28, 28>>("convbn_relu_D_28");
  // PyTorch's MNIST example (examples/pytorch/mnist.cpp): its second convolution, and its whole network.
  add_block<Conv2d<32, 64, 3>, Shape<32, 26, 26>>("mnist_conv2_26");
  add_block<Sequential<Conv2d<1, 32, 3>, ReLU<>, Conv2d<32, 64, 3>, ReLU<>, MaxPool2d<2>, Dropout<>, ToVector<>,
                       Linear<9216, 128>, ReLU<>, Dropout<>, Linear<128, 10>, LogSoftmax<>>,
            Shape<1, 28, 28>>("mnist_net");
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
