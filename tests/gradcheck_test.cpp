// Finite-difference gradient checks in double precision (basic_cpu<double>) for every layer's and block's
// backward, and for a whole UNet of each kind: for L = sum(y * r) with fixed random r, the analytic dL/dx and
// dL/dparam from backward must equal central differences (h = 1e-6) within 1e-6 relative. Layers, blocks and
// models go through the public checker (unetflow/testing/gradcheck.hpp); the two-input primitives probe here.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <unetflow/testing/gradcheck.hpp>
#include <unetflow/unetflow.hpp>
#include <vector>

using namespace unetflow;
using B64 = cpu_f64;

namespace {

constexpr double h = 1e-6, tol = 1e-6;
constexpr int batch = 2;

// Every probe of a report from the public checker (unetflow/testing/gradcheck.hpp), one CHECK each.
void expect_all(const testing::GradientReport& report) {
  REQUIRE(!report.probes.empty());
  for (const auto& p : report.probes) {
    INFO(p.tensor << "[" << p.index << "]: analytic " << p.analytic << ", numeric " << p.numeric);
    CHECK(std::abs(p.numeric - p.analytic) <= tol * std::max(1.0, std::abs(p.numeric)));
  }
}

testing::GradientOptions mode(bool training = true) {
  testing::GradientOptions o;
  o.h = h;
  o.tolerance = tol;
  o.batch = batch;
  o.training = training;
  return o;
}

// Checks up to 12 entries of `value` (perturbed in place) against `analytic`, through the public checker's probe.
void probe(const std::string& what, double* value, const double* analytic, std::ptrdiff_t size,
           const std::function<double()>& loss, Rng& rng) {
  testing::GradientReport report;
  testing::probe_gradient(report, what, value, analytic, size, loss, rng, mode());
  expect_all(report);
}

template <class In, class Layer>
void check_layer(bool training = true) {
  expect_all(testing::check_layer_gradients<Layer, In>(mode(training)));
}

template <class In, class Block>
void check_block(bool training = true) {
  expect_all(testing::check_module_gradients<Block, In>(mode(training)));
}

template <class In, class Out, class M, class Fwd, class Bwd>
void gradcheck(M& m, Fwd forward, Bwd backward, bool training) {
  expect_all(testing::check_gradients<In, Out>(m, forward, backward, mode(training)));
}

}  // namespace

TEST_CASE("gradient check: layers (double precision)") {
  SUBCASE("Conv2d s1") { check_layer<Shape<2, 5, 5>, Conv2d<2, 3, 3, 1, 1, B64>>(); }
  SUBCASE("Conv2d s2") { check_layer<Shape<2, 7, 7>, Conv2d<2, 3, 3, 2, 1, B64>>(); }
  SUBCASE("ConvTranspose2d k4 s2") { check_layer<Shape<3, 3, 3>, ConvTranspose2d<3, 2, 4, 2, 1, B64>>(); }
  SUBCASE("ConvTranspose2d k7 s7") { check_layer<Shape<3, 1, 1>, ConvTranspose2d<3, 3, 7, 7, 0, B64>>(); }
  SUBCASE("BatchNorm2d train") { check_layer<Shape<3, 4, 4>, BatchNorm2d<3, B64>>(true); }
  SUBCASE("BatchNorm2d eval") { check_layer<Shape<3, 4, 4>, BatchNorm2d<3, B64>>(false); }
  SUBCASE("GELU") { check_layer<Shape<2, 3, 3>, GELU<B64>>(); }
  SUBCASE("AvgPool2d") { check_layer<Shape<2, 7, 7>, AvgPool2d<7, B64>>(); }
  SUBCASE("Linear") { check_layer<Vec<4>, Linear<4, 5, B64>>(); }
}

TEST_CASE("gradient check: blocks (double precision)") {
  SUBCASE("Conv") { check_block<Shape<2, 5, 5>, Conv<2, 3, B64>>(); }
  SUBCASE("DownConv") { check_block<Shape<2, 6, 6>, DownConv<2, 3, B64>>(); }
  SUBCASE("UpConv") { check_block<Shape<3, 3, 3>, UpConv<3, 2, B64>>(); }
  SUBCASE("Flatten") { check_block<Shape<2, 7, 7>, Flatten<2, B64>>(); }
  SUBCASE("Unflatten") { check_block<Vec<3>, Unflatten<3, B64>>(); }
  SUBCASE("ConvBlock") { check_block<Shape<2, 5, 5>, ConvBlock<2, 3, B64>>(); }
  SUBCASE("DownBlock") { check_block<Shape<2, 6, 6>, DownBlock<2, 3, B64>>(); }
  SUBCASE("UpBlock") { check_block<Shape<3, 3, 3>, UpBlock<3, 2, B64>>(); }
  SUBCASE("FCBlock") { check_block<Vec<3>, FCBlock<3, 4, B64>>(); }
}

TEST_CASE("gradient check: conditioning broadcast, MSE and cross-entropy (double precision)") {
  using S = Shape<3, 2, 2>;
  Rng rng(5);
  Tensor<S, B64> hx(batch), y(batch), dh(batch), r(batch), target(batch), grad(batch);
  Tensor<Vec<3>, B64> scale(batch), shift(batch), dscale(batch), dshift(batch);
  for (auto* t : {&hx, &r, &target}) rng.fill_normal(t->data(), t->numel());
  rng.fill_normal(scale.data(), scale.numel());
  rng.fill_normal(shift.data(), shift.numel());
  Modulate<B64> mod;
  auto loss = [&] {
    mod.forward(hx.view(), scale.view(), shift.view(), y.view());
    double s = 0;
    for (std::ptrdiff_t i = 0; i < y.numel(); ++i) s += y.data()[i] * r.data()[i];
    return s;
  };
  mod.backward(hx.view(), scale.view(), r.view(), dh.view(), dscale.view(), dshift.view());
  probe("dh", hx.data(), dh.data(), hx.numel(), loss, rng);
  probe("dscale", scale.data(), dscale.data(), scale.numel(), loss, rng);
  probe("dshift", shift.data(), dshift.data(), shift.numel(), loss, rng);

  Tensor<Vec<6>, B64> logits(batch), dlogits(batch);
  rng.fill_normal(logits.data(), logits.numel(), 0, 2);
  const std::uint8_t labels[batch] = {4, 1};
  auto ce = [&] { return cross_entropy<B64>(logits.view(), labels); };
  cross_entropy<B64>(logits.view(), labels, dlogits.view());
  probe("dlogits", logits.data(), dlogits.data(), logits.numel(), ce, rng);

  auto mse = [&] { return mse_loss<B64>(hx.view(), target.view()); };
  mse_loss<B64>(hx.view(), target.view(), grad.view());
  probe("dmse", hx.data(), grad.data(), hx.numel(), mse, rng);
}

TEST_CASE("gradient check: the digit classifier (double precision)") {
  using In = Shape<1, 28, 28>;
  auto m = std::make_unique<DigitClassifier<2, B64>>();
  gradcheck<In, Vec<10>>(*m, [&](View<In, double> x) { return m->forward(x); },
                         [&](View<In, double>, View<Vec<10>, double> dy, View<In, double> dx) { m->backward(dy, dx); }, true);
}

TEST_CASE("gradient check: whole UNets (double precision, D = 2)") {
  using In = Shape<1, 28, 28>;
  Tensor<Vec<1>, B64> t(batch);
  Tensor<Vec<3>, B64> c(batch);
  Rng rng(3);
  rng.fill_uniform(t.data(), t.numel());
  rng.fill_uniform(c.data(), c.numel());
  SUBCASE("UNet") {
    auto m = std::make_unique<UNet<1, 28, 28, 2, B64>>();
    gradcheck<In, In>(*m, [&](View<In, double> x) { return m->forward(x); },
                      [&](View<In, double>, View<In, double> dy, View<In, double> dx) { m->backward(dy, dx); }, true);
  }
  SUBCASE("TimeUNet") {
    auto m = std::make_unique<TimeUNet<1, 28, 28, 2, B64>>();
    gradcheck<In, In>(*m, [&](View<In, double> x) { return m->forward(x, t.view()); },
                      [&](View<In, double>, View<In, double> dy, View<In, double> dx) { m->backward(dy, dx); }, true);
  }
  SUBCASE("ClassTimeUNet") {
    auto m = std::make_unique<ClassTimeUNet<1, 28, 28, 2, 3, B64>>();
    gradcheck<In, In>(*m, [&](View<In, double> x) { return m->forward(x, t.view(), c.view()); },
                      [&](View<In, double>, View<In, double> dy, View<In, double> dx) { m->backward(dy, dx); }, true);
  }
}

// The layer protocol's accumulate flag (module.hpp): backward(x, dy, dx, true) adds dL/dx to what dx holds.
template <class In, class L>
void check_accumulates() {
  using Out = typename L::template output_shape<In>;
  L layer;
  Rng rng(21);
  testing::randomize_parameters(layer, rng);
  Tensor<In, B64> x(batch), plain(batch), added(batch);
  Tensor<Out, B64> y(batch), dy(batch), dy2(batch);
  rng.fill_normal(x.data(), x.numel());
  rng.fill_normal(dy.data(), dy.numel());
  B64::copy(dy.data(), dy2.data(), dy.numel());
  B64::fill(added.data(), added.numel(), 0.5);
  layer.forward(x.view(), y.view());
  layer.backward(x.view(), dy.view(), plain.view());
  layer.forward(x.view(), y.view());
  layer.backward(x.view(), dy2.view(), added.view(), true);
  double worst = 0;
  for (std::ptrdiff_t i = 0; i < x.numel(); ++i) worst = std::max(worst, std::abs(added.data()[i] - 0.5 - plain.data()[i]));
  INFO("largest |dx_accumulated - 0.5 - dx| " << worst);
  CHECK(worst <= 1e-12);
}

TEST_CASE("backward with accumulate adds the input gradient to dx (every protocol layer)") {
  check_accumulates<Shape<2, 5, 5>, Conv2d<2, 3, 3, 1, 1, B64>>();
  check_accumulates<Shape<3, 3, 3>, ConvTranspose2d<3, 2, 4, 2, 1, B64>>();
  check_accumulates<Shape<3, 4, 4>, BatchNorm2d<3, B64>>();
  check_accumulates<Shape<2, 3, 3>, GELU<B64>>();
  check_accumulates<Shape<2, 7, 7>, AvgPool2d<7, B64>>();
  check_accumulates<Vec<4>, Linear<4, 5, B64>>();
}

TEST_CASE("backward without dx still accumulates the parameter gradients (BatchNorm2d, Conv2d, Linear)") {
  auto same_parameter_gradients = [](auto make_layer, auto in_shape) {
    using In = decltype(in_shape);
    auto a = make_layer();
    auto b = make_layer();
    using L = std::decay_t<decltype(*a)>;
    using Out = typename L::template output_shape<In>;
    Rng rng(5), same(5);
    testing::randomize_parameters(*a, rng);
    testing::randomize_parameters(*b, same);
    Tensor<In, B64> x(batch), dx(batch);
    Tensor<Out, B64> y(batch), dy(batch), dy2(batch);
    rng.fill_normal(x.data(), x.numel());
    rng.fill_normal(dy.data(), dy.numel());
    B64::copy(dy.data(), dy2.data(), dy.numel());
    a->forward(x.view(), y.view());
    a->backward(x.view(), dy.view(), dx.view());
    b->forward(x.view(), y.view());
    b->backward(x.view(), dy2.view(), View<In, double>{});
    std::vector<std::vector<double>> ga, gb;
    a->visit("", [&](const std::string&, auto& e) {
      if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) ga.emplace_back(e.grad.data(), e.grad.data() + e.size);
    });
    b->visit("", [&](const std::string&, auto& e) {
      if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) gb.emplace_back(e.grad.data(), e.grad.data() + e.size);
    });
    REQUIRE(!ga.empty());
    CHECK(ga == gb);
  };
  same_parameter_gradients([] { return std::make_unique<BatchNorm2d<3, B64>>(); }, Shape<3, 4, 4>{});
  same_parameter_gradients([] { return std::make_unique<Conv2d<2, 3, 3, 1, 1, B64>>(); }, Shape<2, 5, 5>{});
  same_parameter_gradients([] { return std::make_unique<Linear<4, 5, B64>>(); }, Vec<4>{});
}

TEST_CASE("gradient check: the standard layers (double precision)") {
  using M = Shape<2, 3, 3>;
  SUBCASE("ReLU") { check_layer<M, ReLU<B64>>(); }
  SUBCASE("LeakyReLU") { check_layer<M, LeakyReLU<B64>>(); }
  SUBCASE("SiLU") { check_layer<M, SiLU<B64>>(); }
  SUBCASE("Tanh") { check_layer<M, Tanh<B64>>(); }
  SUBCASE("Sigmoid") { check_layer<M, Sigmoid<B64>>(); }
  SUBCASE("Softplus") { check_layer<M, Softplus<B64>>(); }
  SUBCASE("Identity") { check_layer<M, Identity<B64>>(); }
  SUBCASE("MaxPool2d 2") { check_layer<Shape<2, 4, 4>, MaxPool2d<2, 2, 0, B64>>(); }
  SUBCASE("MaxPool2d 3, stride 2, padding 1") { check_layer<Shape<2, 5, 5>, MaxPool2d<3, 2, 1, B64>>(); }
  SUBCASE("Upsample nearest") { check_layer<Shape<2, 2, 3>, Upsample<2, UpsampleMode::nearest, B64>>(); }
  SUBCASE("Upsample bilinear") { check_layer<Shape<2, 2, 3>, Upsample<2, UpsampleMode::bilinear, B64>>(); }
  SUBCASE("UpsampleTo bilinear x3") { check_layer<Shape<1, 3, 3>, UpsampleTo<9, 9, UpsampleMode::bilinear, B64>>(); }
  SUBCASE("AdaptiveAvgPool2d") { check_layer<Shape<2, 3, 4>, AdaptiveAvgPool2d<B64>>(); }
  SUBCASE("LayerNorm over C x H x W") { check_layer<M, LayerNorm<M, B64>>(); }
  SUBCASE("LayerNorm over a vector") { check_layer<Vec<5>, LayerNorm<Vec<5>, B64>>(); }
  SUBCASE("LayerNorm over the last dimension") { check_layer<Shape<2, 2, 4>, LayerNorm<Vec<4>, B64>>(); }
  SUBCASE("LogSoftmax") { check_layer<Vec<6>, LogSoftmax<B64>>(); }
}

TEST_CASE("gradient check: blocks with other activations (double precision)") {
  SUBCASE("Conv, ReLU") { check_block<Shape<2, 5, 5>, Conv<2, 3, B64, ReLU>>(); }
  SUBCASE("DownConv, SiLU") { check_block<Shape<2, 6, 6>, DownConv<2, 3, B64, SiLU>>(); }
  SUBCASE("FCBlock, Tanh") { check_block<Vec<3>, FCBlock<3, 4, B64, Tanh>>(); }
  SUBCASE("ResBlock, LeakyReLU") { check_block<Shape<2, 4, 4>, ResBlock<2, 3, B64, LeakyReLU>>(); }
}

TEST_CASE("gradient check: Dropout, Dropout2d and Embedding (double precision)") {
  using S = Shape<2, 3, 3>;
  auto dropout = [](auto& layer) {  // every forward with the same draw: the same mask
    gradcheck<S, S>(
        layer,
        [&](View<S, double> x) {
          layer.stream.draws.value = 4;
          return layer.forward(x);
        },
        [&](View<S, double> x, View<S, double> dy, View<S, double> dx) { layer.backward(x, dy, dx); }, true);
  };
  Dropout<B64> d(0.4);
  dropout(d);
  Dropout2d<B64> d2(0.4);
  dropout(d2);

  Embedding<5, 3, B64> emb;
  Rng rng(8);
  testing::randomize_parameters(emb, rng);
  Tensor<Vec<1>, B64> index(3);
  index.data()[0] = 4, index.data()[1] = 1, index.data()[2] = 4;
  Tensor<Vec<3>, B64> r(3);
  rng.fill_normal(r.data(), r.numel());
  auto loss = [&] {
    auto y = emb.forward(index.view());
    double s = 0;
    for (std::ptrdiff_t i = 0; i < y.numel(); ++i) s += y.data[i] * r.data()[i];
    return s;
  };
  emb.forward(index.view());
  emb.backward(index.view(), r.view(), View<Vec<1>, double>{});
  probe("embedding weight", emb.weight.data(), emb.weight.grad.data(), emb.weight.size, loss, rng);
}

TEST_CASE("gradient check: the standard losses (double precision)") {
  Rng rng(12);
  using S = Shape<2, 2, 2>;
  Tensor<S, B64> pred(batch), target(batch), probs(batch), grad(batch);
  rng.fill_normal(pred.data(), pred.numel());
  rng.fill_normal(target.data(), target.numel());
  rng.fill_uniform(probs.data(), probs.numel(), 0.05, 0.95);
  for (const Reduction red : {Reduction::mean, Reduction::sum}) {
    auto check = [&](const char* what, Tensor<S, B64>& in, auto f) {
      CAPTURE(what);
      f(in.view(), grad.view());
      probe(what, in.data(), grad.data(), in.numel(), [&] { return f(in.view(), View<S, double>{}); }, rng);
    };
    check("l1", pred, [&](auto p, auto g) { return l1_loss<B64>(p, target.view(), g, red); });
    check("smooth_l1", pred, [&](auto p, auto g) { return smooth_l1_loss<B64>(p, target.view(), g, red, 0.7); });
    Tensor<S, B64> t01(batch);
    rng.fill_uniform(t01.data(), t01.numel());
    check("bce_with_logits", pred, [&](auto p, auto g) { return bce_with_logits<B64>(p, t01.view(), g, red); });
    check("bce", probs, [&](auto p, auto g) { return bce<B64>(p, t01.view(), g, red); });
    Tensor<Vec<6>, B64> z(batch), dz(batch);
    rng.fill_normal(z.data(), z.numel(), 0, 2);
    const std::vector<std::uint8_t> labels{4, 1};
    auto nll = [&](View<Vec<6>, double> g) { return nll_loss<B64>(z.view(), labels, g, red); };
    nll(dz.view());
    probe("nll", z.data(), dz.data(), z.numel(), [&] { return nll(View<Vec<6>, double>{}); }, rng);
    auto ce = [&](View<Vec<6>, double> g) {
      return cross_entropy<B64>(z.view(), labels, g, {.label_smoothing = 0.2, .reduction = red});
    };
    ce(dz.view());
    probe("cross_entropy, label smoothing", z.data(), dz.data(), z.numel(), [&] { return ce(View<Vec<6>, double>{}); },
          rng);
  }
}

TEST_CASE("backward with accumulate adds the input gradient to dx (the standard layers)") {
  check_accumulates<Shape<2, 3, 3>, ReLU<B64>>();
  check_accumulates<Shape<2, 3, 3>, Identity<B64>>();
  check_accumulates<Shape<2, 4, 4>, MaxPool2d<2, 2, 0, B64>>();
  check_accumulates<Shape<2, 2, 3>, Upsample<2, UpsampleMode::bilinear, B64>>();
  check_accumulates<Shape<2, 3, 4>, AdaptiveAvgPool2d<B64>>();
  check_accumulates<Shape<2, 3, 3>, LayerNorm<Shape<2, 3, 3>, B64>>();
  check_accumulates<Vec<6>, LogSoftmax<B64>>();
}
