// The module interface (module.hpp), Sequential, the run-time checks at model boundaries, evaluation-mode hygiene,
// the tensor helpers and summary().
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <numeric>
#include <unetflow/blocks/sequential.hpp>
#include <unetflow/layers/reshape.hpp>
#include <unetflow/summary.hpp>
#include <unetflow/testing/gradcheck.hpp>
#include <unetflow/unetflow.hpp>
#include <vector>

#include "test_util.hpp"

using namespace unetflow;
namespace fs = std::filesystem;

namespace {

using B64 = cpu_f64;
using Img = Shape<2, 6, 6>;
// Mixed layers and blocks: a convolution block, a strided one, a flatten, Linear, GELU, Linear.
template <class B>
using Mixed = Sequential<Conv<2, 4, B>, DownConv<4, 4, B>, ToVector<B>, Linear<36, 5, B>, GELU<B>, Linear<5, 3, B>>;

static_assert(Module<Linear<4, 3>, Vec<4>> && Module<Conv2d<4, 3, 3>, Shape<4, 8, 8>> &&
              Module<ConvTranspose2d<4, 3, 4, 2, 1>, Shape<4, 8, 8>> && Module<GELU<>, Shape<4, 8, 8>> &&
              Module<BatchNorm2d<4>, Shape<4, 8, 8>> && Module<AvgPool2d<2>, Shape<4, 8, 8>> &&
              Module<ToVector<>, Shape<4, 8, 8>> && Module<Reshape<Shape<1, 16, 16>>, Shape<4, 8, 8>>);
static_assert(Module<Conv<4, 8>, Shape<4, 8, 8>> && Module<ConvBlock<4, 8>, Shape<4, 8, 8>> &&
              Module<FCBlock<4, 8>, Vec<4>> && Module<Flatten<8>, Shape<8, 7, 7>>);
static_assert(Module<Mixed<cpu>, Img> && Module<UNet<1, 28, 28, 4>, Shape<1, 28, 28>> &&
              Module<DigitClassifier<4>, Shape<1, 28, 28>>);
static_assert(std::is_same_v<Mixed<cpu>::output_shape<Img>, Vec<3>> &&
              std::is_same_v<Mixed<cpu>::shape_at<Img, 2>, Shape<4, 3, 3>>);
static_assert(Mixed<cpu>::accepts<Img> && !Mixed<cpu>::accepts<Shape<3, 6, 6>>);

std::vector<std::string> names_of(auto& m) {
  std::vector<std::string> names;
  m.visit("", [&](const std::string& name, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) names.push_back(name);
  });
  return names;
}

int training_modes(auto& m) {
  int n = 0;
  m.visit("", [&](const std::string&, auto& e) {
    if constexpr (std::is_same_v<std::decay_t<decltype(e)>, Mode>) n += e.training;
  });
  return n;
}

// Where the interop files go: UNETFLOW_INTEROP_DIR, which tests/python/interop_test.py reads, else a scratch folder
// removed at the end.
struct InteropDir {
  const char* env = std::getenv("UNETFLOW_INTEROP_DIR");
  fs::path path;
  explicit InteropDir(const std::string& scratch) : path(env ? fs::path(env) : test_util::temp_dir(scratch)) {
    fs::create_directories(path);
  }
  InteropDir(const InteropDir&) = delete;
  ~InteropDir() {
    if (!env) fs::remove_all(path);
  }
};

// Every parameter's gradient as "grad.<name>".
template <class M>
void add_gradients(safetensors::File& io, M& m) {
  m.visit("", [&](const std::string& name, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) io.add("grad." + name, e.dims, e.grad.data());
  });
}

// A module from Img to 3 values, with random parameters, for PyTorch: its state before the forward (the running
// statistics PyTorch's module starts from) as <stem>.safetensors; x, r, y = net(x) and, in training mode, the
// gradients of L = sum(y * r) as <stem>_io.safetensors. Returns y. setup(net) runs first.
struct fixture_free_setup {
  template <class Net>
  void operator()(Net&) const {}
};
template <class Net, class Setup = fixture_free_setup>
std::vector<float> export_for_torch(const fs::path& dir, const std::string& stem, std::uint64_t seed, Setup setup = {}) {
  auto net = std::make_unique<Net>();
  setup(*net);
  Rng rng(seed);
  testing::randomize_parameters(*net, rng);
  save_checkpoint(dir / (stem + ".safetensors"), {{"model", stem}}, part("", *net));
  Tensor<Img, cpu> x(4), dx(4);
  Tensor<Vec<3>, cpu> r(4);
  fill_normal(x, rng);
  fill_normal(r, rng);
  auto y = to_vector(net->forward(x.view()));
  zero_grad(*net);
  net->backward(x.view(), View<Vec<3>, const float>(r.view()), dx.view());
  safetensors::File io;
  io.add("x", {4, 2, 6, 6}, x.data());
  io.add("r", {4, 3}, r.data());
  io.add("y", {4, 3}, y.data());
  io.add("dx", {4, 2, 6, 6}, dx.data());
  add_gradients(io, *net);
  safetensors::write(dir / (stem + "_io.safetensors"), io);
  return y;
}

}  // namespace

TEST_CASE("Sequential: finite-difference gradients of mixed layers and blocks, in training and evaluation mode") {
  for (bool training : {true, false}) {
    auto report = testing::check_module_gradients<Mixed<B64>, Img>({.batch = 3, .training = training});
    INFO(report.summary());
    CHECK(report);
    CHECK(report.probes.size() > 60);
  }
  // Nested Sequentials, a reshape in the middle and a pooling layer.
  using Nested = Sequential<Sequential<Conv2d<2, 3, 3, 1, 1, B64>, GELU<B64>>, AvgPool2d<2, B64>,
                            Reshape<Shape<3, 1, 9>, B64>, BatchNorm2d<3, B64>>;
  auto report = testing::check_module_gradients<Nested, Img>();
  INFO(report.summary());
  CHECK(report);
}

TEST_CASE("Sequential: the same numbers as the modules run by hand, nn.Sequential's names, accumulate and const dy") {
  auto seq = std::make_unique<Mixed<cpu>>();
  Rng rng(3);
  reset_parameters(*seq, rng);
  CHECK(names_of(*seq) == std::vector<std::string>{"0.0.weight", "0.0.bias", "0.1.weight", "0.1.bias", "1.0.weight",
                                                    "1.0.bias", "1.1.weight", "1.1.bias", "3.weight", "3.bias",
                                                    "5.weight", "5.bias"});
  Tensor<Img, cpu> x(5);
  fill_normal(x, rng);
  auto y = seq->forward(x.view());
  REQUIRE(y.n == 5);
  // By hand, with the same parameter values (the modules are the Sequential's own).
  auto& m = seq->modules;
  std::vector<float> got(y.data, y.data + y.numel());
  auto h0 = std::get<0>(m).forward(x.view());
  auto h1 = std::get<1>(m).forward(h0);
  auto h3 = std::get<3>(m).forward(as_vector(h1));
  auto h4 = std::get<4>(m).forward(h3);
  auto h5 = std::get<5>(m).forward(h4);
  CHECK(std::vector<float>(h5.data, h5.data + h5.numel()) == got);

  // backward from a const dy leaves dy alone; accumulate adds to dx.
  y = seq->forward(x.view());
  Tensor<Vec<3>, cpu> dy(5);
  fill_normal(dy, rng);
  const auto dy_before = dy.to_vector();
  Tensor<Img, cpu> dx(5), dx2(5);
  zero_grad(*seq);
  seq->backward(x.view(), View<Vec<3>, const float>(dy.view()), dx.view());
  CHECK(dy.to_vector() == dy_before);
  y = seq->forward(x.view());
  cpu::fill(dx2.data(), dx2.numel(), 1.f);
  seq->backward(x.view(), View<Vec<3>, const float>(dy.view()), dx2.view(), true);
  for (std::ptrdiff_t i = 0; i < dx.numel(); ++i) CHECK(dx2.data()[i] == doctest::Approx(dx.data()[i] + 1.f).epsilon(1e-5));
}

TEST_CASE("Sequential: a mismatched batch or input in backward is one sentence, not a crash") {
  auto seq = std::make_unique<Mixed<cpu>>();
  Tensor<Img, cpu> x(8), other(8), dx(2);
  Tensor<Vec<3>, cpu> dy(2), dy8(8);
  CHECK(test_util::error_of([&] { seq->backward(x.view(), dy8.view(), dx.view()); }).find("no forward") != std::string::npos);
  seq->forward(x.view());
  CHECK(test_util::error_of([&] { seq->backward(x.view(), dy.view(), View<Img, float>{}); }) ==
        "Sequential::backward: dy holds 2 samples but the last forward had 8.");
  CHECK(test_util::error_of([&] { seq->backward(x.view(), dy8.view(), dx.view()); }) ==
        "Sequential::backward: dx holds 2 samples but the last forward had 8.");
  CHECK(test_util::error_of([&] { seq->backward(other.view(), dy8.view(), View<Img, float>{}); }).find("not the input of the last forward") !=
        std::string::npos);
}

TEST_CASE("UNet: inputs and gradients whose batch differs from x's are refused with one sentence") {
  auto net = std::make_unique<ClassTimeUNet<1, 28, 28, 4, 10>>();
  Tensor<Shape<1, 28, 28>, cpu> x(8), dy(2), dx(2), dy8(8);
  Tensor<Vec<1>, cpu> t(2), t8(8);
  Tensor<Vec<10>, cpu> c(3), c8(8);
  CHECK(test_util::error_of([&] { net->forward(x.view(), t.view(), c8.view()); }) ==
        "UNet::forward: t holds 2 samples but x holds 8; every input needs one row per sample.");
  CHECK(test_util::error_of([&] { net->forward(x.view(), t8.view(), c.view()); }) ==
        "UNet::forward: c holds 3 samples but x holds 8; every input needs one row per sample.");
  CHECK(test_util::error_of([&] { net->backward(dy8.view()); }).find("no forward") != std::string::npos);
  net->forward(x.view(), t8.view(), c8.view());
  CHECK(test_util::error_of([&] { net->backward(dy.view()); }) ==
        "UNet::backward: dy holds 2 samples but x holds 8; every input needs one row per sample.");
  CHECK(test_util::error_of([&] { net->backward(dy8.view(), dx.view()); }) ==
        "UNet::backward: dx holds 2 samples but x holds 8; every input needs one row per sample.");
  net->backward(dy8.view());  // the refused calls left the saved forward usable
  auto time_net = std::make_unique<TimeUNet<1, 28, 28, 4>>();
  CHECK(test_util::error_of([&] { time_net->forward(x.view(), t.view()); }).find("t holds 2 samples") != std::string::npos);
}

TEST_CASE("losses refuse batches that differ and labels outside the classes") {
  Tensor<Vec<10>, cpu> logits(4), grad(3);
  std::vector<std::uint8_t> labels{1, 2, 10, 3};
  CHECK(test_util::error_of([&] { cross_entropy<cpu>(logits.view(), labels.data()); }) ==
        "cross_entropy: label 10 of sample 2 is not one of the 10 classes.");
  labels[2] = 9;
  CHECK(test_util::error_of([&] { cross_entropy<cpu>(logits.view(), labels.data(), grad.view()); }) ==
        "cross_entropy: the gradient holds 3 samples but the logits 4.");
  Tensor<Vec<10>, cpu> target(3);
  CHECK(test_util::error_of([&] { mse_loss<cpu>(logits.view(), target.view()); }).find("must hold the same number") !=
        std::string::npos);
}

TEST_CASE("FlowSampler gives the model back in the mode it found, eval_mode restores, also on an exception") {
  auto net = std::make_unique<TimeUNet<1, 28, 28, 4>>();
  Rng rng(1);
  reset_parameters(*net, rng);
  const int all = training_modes(*net);
  CHECK(all == 17);  // every BatchNorm
  FlowSampler<TimeUNet<1, 28, 28, 4>> sampler;
  sampler.sample(*net, 2, 2, rng);
  CHECK(training_modes(*net) == all);
  set_training(*net, false);
  sampler.sample(*net, 2, 2, rng);
  CHECK(training_modes(*net) == 0);
  CHECK(test_util::error_of([&] { sampler.sample(*net, 0, 2, rng); }).find("at least one") != std::string::npos);

  set_training(*net, true);
  try {
    auto guard = eval_mode(*net);
    CHECK(training_modes(*net) == 0);
    throw Error("in the middle");
  } catch (const Error&) {
  }
  CHECK(training_modes(*net) == all);

  auto cnet = std::make_unique<ClassTimeUNet<1, 28, 28, 4, 10>>();
  FlowSampler<ClassTimeUNet<1, 28, 28, 4, 10>> csampler;
  CHECK(test_util::error_of([&] { csampler.sample(*cnet, {1, 10}, 5.0, 2, rng); }) ==
        "FlowSampler::sample: label 10 is outside -1 (no class) .. 9.");
  csampler.sample(*cnet, {1, -1}, 5.0, 2, rng);
  CHECK(training_modes(*cnet) == 17);
}

TEST_CASE("Tensor helpers: zeros, host vectors in and out, random fills") {
  Tensor<Shape<2, 3, 3>, cpu> z(4);
  const auto zeros = z.to_vector();
  CHECK(zeros.size() == 72);
  CHECK(std::all_of(zeros.begin(), zeros.end(), [](float v) { return v == 0.f; }));
  std::vector<float> values(36);
  std::iota(values.begin(), values.end(), 1.f);
  Tensor<Shape<2, 3, 3>, cpu> t{std::span<const float>(values)};
  CHECK(t.n() == 2);
  CHECK(t.to_vector() == values);
  values.pop_back();
  CHECK(test_util::error_of([&] { t.assign(values); }) == "Tensor::assign: 35 values are not a whole number of 18-value samples.");
  Tensor<Vec<1000>, cpu> r(10);
  Rng rng(5);
  fill_normal(r, rng, 2.0, 3.0);
  const auto v = r.to_vector();
  double mean = 0, var = 0;
  for (float e : v) mean += e;
  mean /= double(v.size());
  for (float e : v) var += (e - mean) * (e - mean);
  CHECK(mean == doctest::Approx(2.0).epsilon(0.05));
  CHECK(std::sqrt(var / double(v.size())) == doctest::Approx(3.0).epsilon(0.03));
  fill_uniform(r, rng, -1.0, 0.5);
  const auto u = r.to_vector();
  CHECK(*std::min_element(u.begin(), u.end()) >= -1.f);
  CHECK(*std::max_element(u.begin(), u.end()) < 0.5f);
}

TEST_CASE("summary: one row per module with its output shape and parameters, and the total") {
  auto seq = std::make_unique<Mixed<cpu>>();
  const auto text = summary<Img>(*seq);
  INFO(text);
  CHECK(text.find("1       ConvBnAct<Conv2d<4, 4, 3, 2, 1>, GELU<>>") != std::string::npos);
  CHECK(text.find("4x3x3") != std::string::npos);
  CHECK(text.find("Linear<36, 5>") != std::string::npos);
  CHECK(text.find("total") != std::string::npos);
  CHECK(text.find(std::to_string(parameter_count(*seq))) != std::string::npos);
  auto net = std::make_unique<TimeUNet<1, 28, 28, 4>>();
  const auto unet = summary<Shape<1, 28, 28>>(*net);
  INFO(unet);
  CHECK(unet.find("d2") != std::string::npos);
  CHECK(unet.find("8x7x7") != std::string::npos);
  CHECK(unet.find("fc1_t") != std::string::npos);
}

TEST_CASE("interop export: a Sequential's checkpoint, input, output and gradients for PyTorch (tests/python/interop_test.py)") {
  InteropDir dir("sequential_interop");
  const auto y = export_for_torch<Mixed<cpu>>(dir.path, "sequential", 21);
  CHECK(std::isfinite(y[0]));
}

namespace {
// A ResBlock whose modulation's scale and shift are parameters (for batch 2), so that the gradient checker probes
// dscale and dshift like any parameter gradient.
template <class B>
struct ModulatedRes {
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = Shape<4, In::H, In::W>;
  ResBlock<3, 4, B> block;
  Param<B> scale{{2, 4}, 1.0}, shift{{2, 4}, 1.0};
  template <class In, class U>
  View<output_shape<In>, T> forward(View<In, U> x) {
    return block.forward(x, View<Vec<4>, const T>{scale.data(), x.n}, View<Vec<4>, const T>{shift.data(), x.n});
  }
  template <class In, class U, class V>
  void backward(View<In, U> x, View<output_shape<In>, V> dy, View<In, T> dx, bool accumulate = false) {
    auto ds = reserve_view<Vec<4>>(ds_, x.n), dsh = reserve_view<Vec<4>>(dsh_, x.n);
    block.backward(x, dy, dx, accumulate, ds, dsh);
    B::add_rows(View<Vec<4>, const T>(ds).rows(), Strided<T>{scale.grad.data(), 4}, x.n, 4);
    B::add_rows(View<Vec<4>, const T>(dsh).rows(), Strided<T>{shift.grad.data(), 4}, x.n, 4);
  }
  template <class F>
  void visit(const std::string& prefix, F&& f) {
    block.visit(prefix + "block.", f);
    f(prefix + "scale", scale);
    f(prefix + "shift", shift);
  }
  Storage<B> ds_, dsh_;
};

template <class B>
using ResNet = Sequential<ResBlock<2, 4, B>, ResBlock<4, 4, B>, ToVector<B>, Linear<4 * 6 * 6, 3, B>>;
}  // namespace

TEST_CASE("ResBlock: finite-difference gradients with a projection, with the identity, and modulated") {
  static_assert(Module<ResBlock<2, 4>, Shape<2, 6, 6>> && !ResBlock<4, 4>::projects && ResBlock<2, 4>::projects);
  for (bool training : {true, false}) {
    auto projected = testing::check_module_gradients<ResBlock<2, 3, B64>, Shape<2, 5, 5>>({.training = training});
    INFO(projected.summary());
    CHECK(projected);
    auto identity = testing::check_module_gradients<ResBlock<3, 3, B64>, Shape<3, 5, 5>>({.training = training});
    INFO(identity.summary());
    CHECK(identity);
    auto modulated = testing::check_module_gradients<ModulatedRes<B64>, Shape<3, 4, 4>>({.training = training});
    INFO(modulated.summary());
    CHECK(modulated);
  }
  auto stack = testing::check_module_gradients<ResNet<B64>, Img>();
  INFO(stack.summary());
  CHECK(stack);
  ResBlock<3, 4> block;
  Tensor<Shape<3, 4, 4>, cpu> x(2), dx(2);
  Tensor<Shape<4, 4, 4>, cpu> dy(2);
  block.forward(x.view());
  Tensor<Vec<4>, cpu> ds(2), dsh(2);
  CHECK(test_util::error_of([&] { block.backward(x.view(), dy.view(), dx.view(), false, ds.view(), dsh.view()); }).find("was not modulated") != std::string::npos);
  Tensor<Vec<4>, cpu> scale(3);
  CHECK(test_util::error_of([&] { block.forward(x.view(), View<Vec<4>, const float>(scale.view()), View<Vec<4>, const float>{}); }).find("one row per sample") != std::string::npos);
}

TEST_CASE("interop export: ResBlocks (projected, identity, modulated) for PyTorch (tests/python/interop_test.py)") {
  InteropDir dir("res_interop");
  export_for_torch<ResNet<cpu>>(dir.path, "resnet", 31);  // a projected and an identity ResBlock
  Rng rng(32);
  {  // one modulated ResBlock
    auto block = std::make_unique<ResBlock<3, 4>>();
    testing::randomize_parameters(*block, rng);
    save_checkpoint(dir.path / "modres.safetensors", {{"model", "ResBlock"}}, part("", *block));
    Tensor<Shape<3, 5, 5>, cpu> x(3), dx(3);
    Tensor<Shape<4, 5, 5>, cpu> r(3);
    Tensor<Vec<4>, cpu> scale(3), shift(3), dscale(3), dshift(3);
    fill_normal(x, rng);
    fill_normal(r, rng);
    fill_uniform(scale, rng, 0.5, 1.5);
    fill_normal(shift, rng);
    auto y = to_vector(block->forward(x.view(), View<Vec<4>, const float>(scale.view()), View<Vec<4>, const float>(shift.view())));
    zero_grad(*block);
    auto dy = r.to_vector();
    Tensor<Shape<4, 5, 5>, cpu> g{std::span<const float>(dy)};
    block->backward(x.view(), g.view(), dx.view(), false, dscale.view(), dshift.view());
    safetensors::File io;
    io.add("x", {3, 3, 5, 5}, x.data());
    io.add("r", {3, 4, 5, 5}, r.data());
    io.add("scale", {3, 4}, scale.data());
    io.add("shift", {3, 4}, shift.data());
    io.add("y", {3, 4, 5, 5}, y.data());
    io.add("dx", {3, 3, 5, 5}, dx.data());
    io.add("dscale", {3, 4}, dscale.data());
    io.add("dshift", {3, 4}, dshift.data());
    add_gradients(io, *block);
    safetensors::write(dir.path / "modres_io.safetensors", io);
    CHECK(std::isfinite(y[0]));
  }
}

namespace {
template <class B>
using GroupNet = Sequential<Conv2d<2, 6, 3, 1, 1, B>, GroupNorm<6, 3, B>, GELU<B>, ToVector<B>, Linear<6 * 36, 3, B>>;
}  // namespace

TEST_CASE("GroupNorm: finite-difference gradients, batch independence, channel-slice inputs") {
  auto layer = testing::check_layer_gradients<GroupNorm<6, 2, B64>, Shape<6, 3, 3>>({.batch = 3});
  INFO(layer.summary());
  CHECK(layer);
  auto net = testing::check_module_gradients<GroupNet<B64>, Img>();
  INFO(net.summary());
  CHECK(net);
  // Each sample is normalised on its own: sample 0 alone gives what it gives inside a batch of 3.
  GroupNorm<4, 2> gn;
  Rng rng(9);
  testing::randomize_parameters(gn, rng);
  Tensor<Shape<4, 3, 3>, cpu> x(3);
  fill_normal(x, rng, 1.0, 2.0);
  const auto batch = to_vector(gn.forward(x.view()));
  const auto alone = to_vector(gn.forward(View<Shape<4, 3, 3>, const float>{x.data(), 1}));
  for (std::size_t i = 0; i < alone.size(); ++i) CHECK(alone[i] == doctest::Approx(batch[i]).epsilon(1e-6));
  // A channel slice of a wider map (stride larger than the sample) normalises like a copy of it.
  Tensor<Shape<6, 3, 3>, cpu> wide(3);
  fill_normal(wide, rng);
  View<Shape<4, 3, 3>, const float> slice{wide.data() + 2 * 9, 3, Shape<6, 3, 3>::size};
  Tensor<Shape<4, 3, 3>, cpu> copy(3);
  for (int s = 0; s < 3; ++s) std::copy(slice.sample(s), slice.sample(s) + 36, copy.view().sample(s));
  const auto from_slice = to_vector(gn.forward(slice));
  const auto from_copy = to_vector(gn.forward(copy.view()));
  CHECK(from_slice == from_copy);
}

TEST_CASE("interop export: a Sequential with GroupNorm for PyTorch (tests/python/interop_test.py)") {
  InteropDir dir("gn_interop");
  const auto y = export_for_torch<GroupNet<cpu>>(dir.path, "groupnet", 41);
  CHECK(std::isfinite(y[0]));
}

namespace {
template <class B>
using AttentionNet = Sequential<Conv2d<2, 4, 3, 1, 1, B>, SelfAttention<4, 2, B>, GELU<B>, ToVector<B>, Linear<4 * 36, 3, B>>;
}  // namespace

TEST_CASE("SelfAttention: finite-difference gradients (one head, two heads, inside a Sequential), softmax rows") {
  auto one = testing::check_module_gradients<SelfAttention<4, 1, B64>, Shape<4, 3, 3>>({.batch = 3});
  INFO(one.summary());
  CHECK(one);
  auto two = testing::check_module_gradients<SelfAttention<4, 2, B64>, Shape<4, 2, 3>>();
  INFO(two.summary());
  CHECK(two);
  auto net = testing::check_module_gradients<AttentionNet<B64>, Img>();
  INFO(net.summary());
  CHECK(net);
  // The softmax primitive: rows sum to 1, a shifted row gives the same, large values do not overflow.
  std::vector<double> rows{1, 2, 3, 1001, 1002, 1003};
  cpu_f64::softmax_rows(rows.data(), 2, 3);
  CHECK(rows[0] + rows[1] + rows[2] == doctest::Approx(1.0));
  for (int i = 0; i < 3; ++i) CHECK(rows[std::size_t(i)] == doctest::Approx(rows[std::size_t(i + 3)]));
  CHECK(rows[2] == doctest::Approx(std::exp(2.0) / (1 + std::exp(1.0) + std::exp(2.0))));
}

TEST_CASE("interop export: a Sequential with SelfAttention for PyTorch (tests/python/interop_test.py)") {
  InteropDir dir("attention_interop");
  const auto y = export_for_torch<AttentionNet<cpu>>(dir.path, "attention", 51);
  CHECK(std::isfinite(y[0]));
}

namespace {
// Every block beyond the assignment in one model: a projected ResBlock, GroupNorm, two-head attention.
template <class B>
using AllNew = Sequential<ResBlock<2, 4, B>, GroupNorm<4, 2, B>, SelfAttention<4, 2, B>, ToVector<B>, Linear<4 * 36, 3, B>>;
}  // namespace

TEST_CASE("a model of every new block: finite differences, and its checkpoint and gradients for PyTorch") {
  auto report = testing::check_module_gradients<AllNew<B64>, Img>();
  INFO(report.summary());
  CHECK(report);
  InteropDir dir("allnew_interop");
  const auto y = export_for_torch<AllNew<cpu>>(dir.path, "allnew", 61);
  CHECK(std::isfinite(y[0]));
}

namespace {
// The standard layers in one model (tests/python/interop_test.py has its nn.Sequential twin); dropout with p = 0, so
// that PyTorch's training-mode forward gives the same numbers, and its stream is left out of the file.
template <class B>
using StandardNet = Sequential<Conv2d<2, 4, 3, 1, 1, B>, LayerNorm<Shape<4, 6, 6>, B>, LeakyReLU<B>, MaxPool2d<2, 2, 0, B>,
                               Dropout<B>, Upsample<2, UpsampleMode::bilinear, B>, Conv<4, 4, B, SiLU>,
                               AdaptiveAvgPool2d<B>, ToVector<B>, Linear<4, 3, B>, Tanh<B>>;
}  // namespace

TEST_CASE("interop export: a Sequential of the standard layers for PyTorch (tests/python/interop_test.py)") {
  InteropDir dir("standard_interop");
  const auto y = export_for_torch<StandardNet<cpu>>(dir.path, "standard", 51,
                                                    [](StandardNet<cpu>& net) { net.get<4>().set_p(0.0); });
  CHECK(std::isfinite(y[0]));
  // Finite differences through the whole model, in evaluation mode (a training-mode dropout draws a new mask at
  // each of the checker's forwards).
  auto report = testing::check_module_gradients<StandardNet<B64>, Img>({.batch = 3, .training = false});
  INFO(report.summary());
  CHECK(report);
}
