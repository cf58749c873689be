// The standard layers, losses, optimisers and schedules against PyTorch (fixtures from make_fixtures.py's second part),
// and what PyTorch cannot say: dropout's rate and scaling over 10^6 elements, checkpoint resume of every optimiser and
// schedule, the random streams in checkpoints, augmentation, and the Eigen tensor view.
#include <cmath>
#include <filesystem>
#include <span>
#include <unetflow/eigen_tensor.hpp>

#include "fixture.hpp"
#include "test_util.hpp"

using namespace unetflow;
using fixture::check_block;
using fixture::check_layer;
using fixture::load;

namespace {

std::vector<std::uint8_t> labels_of(const std::string& name) {
  const auto l = fixture::tensor(name).as<std::int64_t>();
  return {l.begin(), l.end()};
}

// Two parameters, "w" (5 x 4) and "b" (4), as the optimiser fixtures have them.
struct TwoParams {
  Param<cpu> w{{5, 4}, 0.0}, b{{4}, 0.0};
  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "w", w);
    f(prefix + "b", b);
  }
  void set(const std::string& c, const std::string& suffix) {
    w.from_host(fixture::values(c + "/w" + suffix).data());
    b.from_host(fixture::values(c + "/b" + suffix).data());
  }
  void set_grads(const std::string& c, int step) {
    const auto gw = fixture::values(c + "/gw" + std::to_string(step)), gb = fixture::values(c + "/gb" + std::to_string(step));
    std::copy(gw.begin(), gw.end(), w.grad.data());
    std::copy(gb.begin(), gb.end(), b.grad.data());
  }
};

// Five steps from the fixture's gradients; parameters and every state tensor PyTorch has, to 1e-6 relative.
template <class Opt>
void check_optimizer(const std::string& c, Opt& opt, TwoParams& m) {
  for (int step = 1; step <= 5; ++step) {
    m.set_grads(c, step);
    opt.step();
  }
  constexpr double tol = 1e-6;
  CHECK(fixture::rel_error(m.w.data(), m.w.size, c + "/w5") <= tol);
  CHECK(fixture::rel_error(m.b.data(), m.b.size, c + "/b5") <= tol);
  int compared = 0;
  opt.visit("", [&](const std::string& name, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Buffer>) {
      if (!fixture::file().has(c + "/state." + name)) return;  // PyTorch keeps no buffer an option does not use
      INFO("state " << name);
      CHECK(fixture::rel_error(e.data(), e.size, c + "/state." + name) <= tol);
      ++compared;
    }
  });
  CHECK(compared >= 2);
}

}  // namespace

TEST_CASE("standard layers match PyTorch") {
  using M = Shape<2, 4, 4>;
  check_layer<M, M, ReLU<>>("relu");
  check_layer<M, M, LeakyReLU<>>("leaky_relu", [](LeakyReLU<>& l) { l.negative_slope = 0.2f; });
  check_layer<M, M, SiLU<>>("silu");
  check_layer<M, M, Tanh<>>("tanh");
  check_layer<M, M, Sigmoid<>>("sigmoid");
  check_layer<M, M, Softplus<>>("softplus");
  check_layer<M, M, Identity<>>("identity");
  // bias=False (DCGAN's convolutions): the state has no bias, strictly
  check_layer<Shape<3, 6, 6>, Shape<4, 3, 3>, Conv2d<3, 4, 4, 2, 1, cpu, Bias::none>>("conv_nobias");
  check_layer<Shape<4, 4, 4>, Shape<3, 7, 7>, ConvTranspose2d<4, 3, 3, 2, 1, cpu, Bias::none>>("conv_transpose_nobias");
  check_layer<Shape<2, 6, 6>, Shape<2, 3, 3>, MaxPool2d<2>>("maxpool2d");
  check_layer<Shape<2, 7, 7>, Shape<2, 4, 4>, MaxPool2d<3, 2, 1>>("maxpool2d_k3s2p1");
  check_layer<Shape<2, 3, 4>, Shape<2, 6, 8>, Upsample<2>>("upsample_nearest");
  check_layer<Shape<2, 3, 4>, Shape<2, 6, 8>, Upsample<2, UpsampleMode::bilinear>>("upsample_bilinear");
  check_layer<Shape<2, 3, 3>, Shape<2, 9, 9>, UpsampleTo<9, 9, UpsampleMode::bilinear>>("upsample_bilinear_x3");
  check_layer<Shape<3, 5, 7>, Shape<3, 1, 1>, AdaptiveAvgPool2d<>>("adaptive_avgpool2d");
  check_layer<Shape<4, 3, 3>, Shape<4, 3, 3>, LayerNorm<Shape<4, 3, 3>>>("layernorm_chw");
  check_layer<Vec<5>, Vec<5>, LayerNorm<Vec<5>>>("layernorm_vec");
  check_layer<Shape<2, 3, 6>, Shape<2, 3, 6>, LayerNorm<Vec<6>>>("layernorm_last");
  check_layer<Vec<10>, Vec<10>, LogSoftmax<>>("log_softmax");
}

// Max pooling and bilinear up-sampling as defined (PyTorch's rules, in double), against the CPU kernels at every
// width: their fast paths work a row in blocks of vectors (compiled for each count of up to 4 blocks; the up-sampling
// passes in bands of rows, the forward reading the plane's last rows from a padded copy), so widths around the block
// sizes, at each count, and past the widest row they take (the general path) are all here, with ties (few distinct
// values), NaNs, and accumulation; and odd sides, whose last row and column no 2 x 2 window reads (the primitives
// take any side, as PyTorch, though the layers refuse those at compile time).
TEST_CASE("max pooling and x2 up-sampling (bilinear, nearest) follow their definitions at every width") {
  Rng rng(11);
  const auto draw = [&](std::vector<float>& v, bool ties) {
    rng.fill_normal(v.data(), v.size());
    if (ties)
      for (auto& e : v) e = std::round(e);
  };
  for (int w : {2, 4, 9, 15, 16, 17, 30, 31, 32, 34, 62, 66, 100, 128, 130, 512, 514}) {
    for (int hk = 0; hk < 4; ++hk) {  // 6 and 7 rows, 2 x 2 and 3 x 3 windows
      const int h = 6 + hk / 2, k = 2 + hk % 2;
      const int s = 2, p = k == 3 ? 1 : 0, ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1;
      for (int variant = 0; variant < 3; ++variant) {  // ties; ties and a NaN; continuous values
        INFO("maxpool k=" << k << " h=" << h << " w=" << w << " variant " << variant);
        std::vector<float> x(std::size_t(2 * h * w)), dy(std::size_t(2 * ho * wo)), dx(x.size()), base(x.size()),
            y(dy.size());
        draw(x, variant < 2);
        draw(dy, false);
        draw(base, false);
        if (variant == 1) x[std::size_t(h * w + w + 1)] = NAN;
        for (bool accumulate : {false, true}) {
          dx = base;
          cpu::maxpool_forward(Strided<const float>{x.data(), h * w}, Strided<float>{y.data(), ho * wo}, 1, 2, h, w, k,
                               s, p);
          cpu::maxpool_backward(Strided<const float>{x.data(), h * w}, Strided<const float>{dy.data(), ho * wo},
                                Strided<float>{dx.data(), h * w}, 1, 2, h, w, k, s, p, accumulate);
          std::vector<double> want(x.size(), 0.0);
          if (accumulate) want.assign(base.begin(), base.end());
          for (int c = 0; c < 2; ++c)
            for (int oy = 0; oy < ho; ++oy)
              for (int ox = 0; ox < wo; ++ox) {
                int best = -1;
                for (int iy = oy * s - p; iy < oy * s - p + k; ++iy)
                  for (int ix = ox * s - p; ix < ox * s - p + k; ++ix) {
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                    const int at = c * h * w + iy * w + ix;
                    if (best < 0 || x[std::size_t(at)] > x[std::size_t(best)] || std::isnan(x[std::size_t(at)])) best = at;
                  }
                const int o = c * ho * wo + oy * wo + ox;
                const float got = y[std::size_t(o)], expected = x[std::size_t(best)];
                CHECK((got == expected || (std::isnan(got) && std::isnan(expected))));
                want[std::size_t(best)] += dy[std::size_t(o)];
              }
          int wrong = 0;
          for (std::size_t i = 0; i < x.size(); ++i) wrong += std::abs(dx[i] - want[i]) > 1e-6 * (1 + std::abs(want[i]));
          CHECK(wrong == 0);
        }
      }
    }
  }
  for (int w : {1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 33, 49, 64, 65, 255, 256, 257, 1030, 4097}) {
    for (int h : {1, 2, 5, 40}) {  // 40 rows of 255 take three of the forward's and the backward's bands
      INFO("bilinear h=" << h << " w=" << w);
      std::vector<float> x(std::size_t(h * w)), dy(std::size_t(4 * h * w)), y(dy.size()), dx(x.size()), base(x.size());
      draw(x, false);
      draw(dy, false);
      draw(base, false);
      // PyTorch's source coordinate (align_corners = false): clamped at 0, the upper neighbour clamped at the edge
      const auto tap = [](int o, int size) {
        const double src = std::max((o + 0.5) / 2 - 0.5, 0.0);
        const int lo = int(src);
        return std::tuple{lo, std::min(lo + 1, size - 1), src - lo};
      };
      std::vector<double> want_y(y.size(), 0.0), want_dx(base.begin(), base.end());
      for (int oy = 0; oy < 2 * h; ++oy)
        for (int ox = 0; ox < 2 * w; ++ox) {
          const auto [y0, y1, ly] = tap(oy, h);
          const auto [x0, x1, lx] = tap(ox, w);
          const auto at = [&](int iy, int ix) { return std::size_t(iy * w + ix); };
          const std::size_t o = std::size_t(oy * 2 * w + ox);
          want_y[o] = (1 - ly) * ((1 - lx) * x[at(y0, x0)] + lx * x[at(y0, x1)]) +
                      ly * ((1 - lx) * x[at(y1, x0)] + lx * x[at(y1, x1)]);
          want_dx[at(y0, x0)] += (1 - ly) * (1 - lx) * dy[o];
          want_dx[at(y0, x1)] += (1 - ly) * lx * dy[o];
          want_dx[at(y1, x0)] += ly * (1 - lx) * dy[o];
          want_dx[at(y1, x1)] += ly * lx * dy[o];
        }
      cpu::upsample_forward(Strided<const float>{x.data(), h * w}, Strided<float>{y.data(), 4 * h * w}, 1, 1, h, w, 2, true);
      dx = base;
      cpu::upsample_backward(Strided<const float>{dy.data(), 4 * h * w}, Strided<float>{dx.data(), h * w}, 1, 1, h, w, 2,
                             true, true);
      double worst_y = 0, worst_dx = 0;
      for (std::size_t i = 0; i < y.size(); ++i) worst_y = std::max(worst_y, std::abs(y[i] - want_y[i]));
      for (std::size_t i = 0; i < dx.size(); ++i) worst_dx = std::max(worst_dx, std::abs(dx[i] - want_dx[i]));
      CHECK(worst_y <= 1e-5);
      CHECK(worst_dx <= 1e-5);
      cpu::upsample_backward(Strided<const float>{dy.data(), 4 * h * w}, Strided<float>{dx.data(), h * w}, 1, 1, h, w, 2,
                             true, false);
      for (std::size_t i = 0; i < dx.size(); ++i) want_dx[i] -= base[i];
      worst_dx = 0;
      for (std::size_t i = 0; i < dx.size(); ++i) worst_dx = std::max(worst_dx, std::abs(dx[i] - want_dx[i]));
      CHECK(worst_dx <= 1e-5);
      // nearest x2: the forward repeats each input over its 2 x 2 block, the backward sums that block of dy (into
      // base when accumulating)
      cpu::upsample_forward(Strided<const float>{x.data(), h * w}, Strided<float>{y.data(), 4 * h * w}, 1, 1, h, w, 2,
                            false);
      int repeated = 0;
      for (int oy = 0; oy < 2 * h; ++oy)
        for (int ox = 0; ox < 2 * w; ++ox)
          repeated += y[std::size_t(oy * 2 * w + ox)] == x[std::size_t(oy / 2 * w + ox / 2)];
      CHECK(repeated == 4 * h * w);
      for (bool accumulate : {false, true}) {
        dx = base;
        cpu::upsample_backward(Strided<const float>{dy.data(), 4 * h * w}, Strided<float>{dx.data(), h * w}, 1, 1, h, w,
                               2, false, accumulate);
        worst_dx = 0;
        for (int iy = 0; iy < h; ++iy)
          for (int ix = 0; ix < w; ++ix) {
            const auto at = [&](int oy, int ox) { return double(dy[std::size_t(oy * 2 * w + ox)]); };
            const double want = (accumulate ? base[std::size_t(iy * w + ix)] : 0.0) + at(2 * iy, 2 * ix) +
                                at(2 * iy, 2 * ix + 1) + at(2 * iy + 1, 2 * ix) + at(2 * iy + 1, 2 * ix + 1);
            worst_dx = std::max(worst_dx, std::abs(dx[std::size_t(iy * w + ix)] - want));
          }
        CHECK(worst_dx <= 1e-5);
      }
    }
  }
}

TEST_CASE("blocks with other activations match PyTorch") {
  check_block<Shape<3, 6, 6>, Conv<3, 4, cpu, ReLU>>("conv_relu");
  check_block<Shape<3, 6, 6>, DownConv<3, 4, cpu, LeakyReLU>>(
      "down_conv_leaky", [](DownConv<3, 4, cpu, LeakyReLU>& b) { b.act.negative_slope = 0.2f; });
  check_block<Vec<2>, FCBlock<2, 5, cpu, SiLU>>("fc_block_silu");
}

TEST_CASE("Embedding matches PyTorch and refuses an index that is not a row") {
  Embedding<7, 4> emb;
  fixture::load_state(emb, "embedding");
  auto index = load<Vec<1>>("embedding/index");
  auto y = emb.forward(index.view());
  EXPECT_MATCHES(y.data, y.numel(), "embedding/y");
  auto dy = load<Vec<4>>("embedding/dy");
  emb.backward(index.view(), dy.view(), View<Vec<1>, float>{});
  EXPECT_MATCHES(emb.weight.grad.data(), emb.weight.size, "embedding/grad.weight");
  for (float bad : {7.f, -1.f, 2.5f}) {
    index.data()[1] = bad;
    CHECK_THROWS_WITH_AS(emb.forward(index.view()), doctest::Contains("which is not a whole number in [0, 7)"),
                         Error);
  }
}

TEST_CASE("Dropout: PyTorch's result for unetflow's mask, the drop rate and scale over 10^6 elements") {
  for (const char* c : {"dropout", "dropout2d"}) {
    CAPTURE(c);
    using S = Shape<3, 4, 4>;
    auto x = load<S>(std::string(c) + "/x"), dy = load<S>(std::string(c) + "/dy");
    Tensor<S, cpu> y(x.n()), dx(x.n());
    const bool per_channel = std::string(c) == "dropout2d";
    auto run = [&](auto& layer) {
      layer.stream.seed.value = 12345;
      layer.stream.draws.value = 2;
      layer.forward(x.view(), y.view());
      CHECK(layer.stream.draws.value == 3);
      layer.backward(x.view(), dy.view(), dx.view());
      EXPECT_MATCHES(y.data(), y.numel(), std::string(c) + "/y");
      EXPECT_MATCHES(dx.data(), dx.numel(), std::string(c) + "/dx");
      set_training(layer, false);  // evaluation: the identity
      layer.forward(x.view(), y.view());
      CHECK(std::equal(y.data(), y.data() + y.numel(), x.data()));
    };
    if (per_channel) {
      Dropout2d<> d(0.3);
      run(d);
    } else {
      Dropout<> d(0.3);
      run(d);
    }
  }
  // 10^6 elements at p = 0.3: the kept share within 5 standard deviations (5 * 4.6e-4) of 0.7, every kept value
  // exactly x / 0.7, and two draws different.
  using Big = Vec<1000>;
  Tensor<Big, cpu> ones(1000), y(1000), y2(1000);
  std::fill(ones.data(), ones.data() + ones.numel(), 1.f);
  Dropout<> d(0.3);
  d.forward(ones.view(), y.view());
  d.forward(ones.view(), y2.view());
  std::ptrdiff_t kept = 0, same = 0;
  bool scaled = true;
  for (std::ptrdiff_t i = 0; i < y.numel(); ++i) {
    if (y.data()[i] != 0) {
      ++kept;
      scaled = scaled && y.data()[i] == float(1.0 / 0.7);
    }
    same += (y.data()[i] != 0) == (y2.data()[i] != 0);
  }
  CHECK(std::abs(double(kept) / 1e6 - 0.7) < 5 * std::sqrt(0.3 * 0.7 / 1e6));
  CHECK(scaled);
  CHECK(same < 700000);  // independent draws agree on about 0.7^2 + 0.3^2 = 58 %
  CHECK_THROWS_WITH_AS(Dropout<>(1.5), "Dropout: the drop probability p is 1.500000; it must lie in [0, 1].", Error);
}

TEST_CASE("losses match PyTorch, mean and sum") {
  const auto labels = labels_of("losses/labels");
  for (const char* red : {"mean", "sum"}) {
    CAPTURE(red);
    const Reduction reduction = std::string(red) == "mean" ? Reduction::mean : Reduction::sum;
    const std::string tail = std::string("_") + red;
    auto check = [&](const std::string& name, double loss, const auto& grad) {
      const float l = float(loss);
      EXPECT_MATCHES(&l, 1, "loss_" + name + tail + "/loss");
      EXPECT_MATCHES(grad.data(), grad.numel(), "loss_" + name + tail + "/grad");
    };
    {
      auto lp = load<Vec<10>>("loss_nll" + tail + "/input");
      Tensor<Vec<10>, cpu> g(lp.n());
      check("nll", nll_loss<cpu>(lp.view(), labels, g.view(), reduction), g);
      auto z = load<Vec<10>>("loss_ce_smooth" + tail + "/input");
      check("ce_smooth",
            cross_entropy<cpu>(z.view(), labels, g.view(), {.label_smoothing = 0.1, .reduction = reduction}), g);
    }
    using S = Shape<2, 3, 3>;
    auto target = load<S>("losses/target"), t01 = load<S>("losses/targets01");
    Tensor<S, cpu> g(3);
    auto in = [&](const std::string& n) { return load<S>("loss_" + n + tail + "/input"); };
    auto p = in("l1");
    check("l1", l1_loss<cpu>(p.view(), target.view(), g.view(), reduction), g);
    p = in("smooth_l1");
    check("smooth_l1", smooth_l1_loss<cpu>(p.view(), target.view(), g.view(), reduction), g);
    p = in("smooth_l1_b05");
    check("smooth_l1_b05", smooth_l1_loss<cpu>(p.view(), target.view(), g.view(), reduction, 0.5), g);
    p = in("bce_logits");
    check("bce_logits", bce_with_logits<cpu>(p.view(), t01.view(), g.view(), reduction), g);
    p = in("bce");
    check("bce", bce<cpu>(p.view(), t01.view(), g.view(), reduction), g);
  }
}

TEST_CASE("losses refuse a mismatched batch or a label that is not a class, in one sentence") {
  Tensor<Vec<10>, cpu> z(3), g(2);
  std::vector<std::uint8_t> labels{1, 2, 3};
  CHECK_THROWS_WITH_AS(nll_loss<cpu>(z.view(), std::span(labels).first(2)),
                       "nll_loss: the batch holds 3 samples but 2 labels.", Error);
  labels[1] = 10;
  CHECK_THROWS_WITH_AS(cross_entropy<cpu>(z.view(), labels), "cross_entropy: label 10 of sample 1 is not one of the 10 classes.",
                       Error);
  Tensor<Shape<1, 2, 2>, cpu> a(3), b(2);
  CHECK_THROWS_WITH_AS(l1_loss<cpu>(a.view(), b.view()),
                       "l1_loss: the prediction holds 3 samples, the target 2; they must hold the same number.", Error);
  CHECK_THROWS_WITH_AS(bce_with_logits<cpu>(a.view(), b.view()),
                       "bce_with_logits: the prediction holds 3 samples, the target 2; they must hold the same number.",
                       Error);
}

TEST_CASE("optimisers match PyTorch over five steps (biases excluded from weight decay where asked)") {
  TwoParams m;
  SUBCASE("SGD, momentum and dampening") {
    m.set("sgd", "0");
    SGD<cpu> opt(m, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 1e-2},
                 WeightDecayRule::biases_and_norms());
    check_optimizer("sgd", opt, m);
  }
  SUBCASE("SGD, Nesterov") {
    m.set("sgd_nesterov", "0");
    SGD<cpu> opt(m, {.lr = 0.05, .momentum = 0.8, .weight_decay = 1e-3, .nesterov = true});
    check_optimizer("sgd_nesterov", opt, m);
  }
  SUBCASE("SGD, plain") {
    m.set("sgd_plain", "0");
    SGD<cpu> opt(m, {.lr = 0.1});
    for (int step = 1; step <= 5; ++step) {
      m.set_grads("sgd_plain", step);
      opt.step();
    }
    CHECK(fixture::rel_error(m.w.data(), m.w.size, "sgd_plain/w5") <= 1e-6);
  }
  SUBCASE("AdamW") {
    m.set("adamw", "0");
    AdamW<cpu> opt(m, {.lr = 1e-2, .weight_decay = 0.05}, WeightDecayRule::biases_and_norms());
    check_optimizer("adamw", opt, m);
  }
  SUBCASE("Adadelta") {
    m.set("adadelta", "0");
    Adadelta<cpu> opt(m, {.lr = 1.0, .weight_decay = 1e-3});
    check_optimizer("adadelta", opt, m);
  }
  SUBCASE("RMSprop") {
    m.set("rmsprop", "0");
    RMSprop<cpu> opt(m, {.lr = 1e-2, .weight_decay = 1e-3});
    check_optimizer("rmsprop", opt, m);
  }
  SUBCASE("RMSprop, centred with momentum") {
    m.set("rmsprop_centered", "0");
    RMSprop<cpu> opt(m, {.lr = 1e-2, .momentum = 0.5, .centered = true});
    check_optimizer("rmsprop_centered", opt, m);
  }
}

TEST_CASE("weight-decay rule: biases and one-dimensional tensors are not decayed, named parts neither") {
  const auto rule = WeightDecayRule::biases_and_norms({"norm."});
  CHECK(rule.decays("c0.0.weight", {4, 3, 3, 3}));
  CHECK_FALSE(rule.decays("c0.0.bias", {4}));
  CHECK_FALSE(rule.decays("c0.1.weight", {4}));  // a BatchNorm scale
  CHECK_FALSE(rule.decays("norm.weight", {4, 3, 3}));
  CHECK(WeightDecayRule{}.decays("fc.bias", {4}));
}

TEST_CASE("schedules match PyTorch over ten epochs") {
  TwoParams m;
  SGD<cpu> opt(m, {.lr = 0.1});
  auto check = [&](const std::string& name, auto make) {
    CAPTURE(name);
    opt.options.lr = 0.1;  // the base of each schedule
    auto sched = make();
    const auto lrs = fixture::tensor(name + "/lrs").as<double>();
    for (double expected : lrs) {
      sched.step();
      CHECK(sched.lr() == doctest::Approx(expected).epsilon(1e-6));
    }
  };
  check("step_lr", [&] { return StepLR<SGD<cpu>>(opt, 3, 0.5); });
  check("multistep_lr", [&] { return MultiStepLR<SGD<cpu>>(opt, {2, 5}, 0.3); });
  check("cosine_lr", [&] { return CosineAnnealingLR<SGD<cpu>>(opt, 7, 1e-4); });
  check("linear_lr", [&] { return LinearLR<SGD<cpu>>(opt, 0.1, 1.0, 4); });
  check("sequential_lr", [&] {
    return SequentialLR<SGD<cpu>>(opt, {lr_rules::linear(0.1, 1.0, 3), lr_rules::cosine(6, 0)}, {3});
  });
}

TEST_CASE("clip_grad_norm matches PyTorch: the norm before clipping, the gradients after") {
  TwoParams m;
  const auto gw = fixture::values("clip/gw"), gb = fixture::values("clip/gb");
  std::copy(gw.begin(), gw.end(), m.w.grad.data());
  std::copy(gb.begin(), gb.end(), m.b.grad.data());
  const double norm = clip_grad_norm(m, 1.0);
  CHECK(norm == doctest::Approx(fixture::tensor("clip/norm").as<double>().at(0)).epsilon(1e-6));
  EXPECT_MATCHES(m.w.grad.data(), m.w.size, "clip/gw_after");
  EXPECT_MATCHES(m.b.grad.data(), m.b.size, "clip/gb_after");
  CHECK(clip_grad_norm(m, 10.0) == doctest::Approx(1.0).epsilon(1e-5));  // below max_norm: left as it is
}

TEST_CASE("every optimiser and schedule resumes bit-identically from a checkpoint") {
  const auto dir = test_util::temp_dir("optim_resume");
  auto run = [&](auto make, int first, int second, bool through_file) {
    TwoParams m;
    m.set("sgd", "0");
    auto made = make(m);  // (not a structured binding: clang 14 cannot capture one in the lambda below)
    auto& opt = made.first;
    auto& sched = made.second;
    auto steps = [&](int from, int to) {
      for (int s = from; s < to; ++s) {
        m.set_grads("sgd", 1 + s % 5);
        opt->step();
        sched->step();
      }
    };
    steps(0, first);
    if (through_file) {
      const auto path = dir / "ckpt.safetensors";
      save_checkpoint(path, {}, part("", m), part("optim.", *opt), part("sched.", *sched));
      TwoParams m2;
      auto made2 = make(m2);
      auto& opt2 = made2.first;
      auto& sched2 = made2.second;
      load_checkpoint(path, {}, part("", m2), part("optim.", *opt2), part("sched.", *sched2));
      sched2->restore();
      for (int s = first; s < first + second; ++s) {
        m2.set_grads("sgd", 1 + s % 5);
        opt2->step();
        sched2->step();
      }
      return m2.w.to_host();
    }
    steps(first, first + second);
    return m.w.to_host();
  };
  auto both = [&](const char* what, auto make) {
    CAPTURE(what);
    CHECK(run(make, 3, 4, false) == run(make, 3, 4, true));
  };
  both("SGD + StepLR", [](TwoParams& m) {
    auto o = std::make_unique<SGD<cpu>>(m, SGD<cpu>::Options{.lr = 0.1, .momentum = 0.9, .nesterov = true});
    auto s = std::make_unique<StepLR<SGD<cpu>>>(*o, 2, 0.5);
    return std::pair(std::move(o), std::move(s));
  });
  both("AdamW + CosineAnnealingLR", [](TwoParams& m) {
    auto o = std::make_unique<AdamW<cpu>>(m);
    auto s = std::make_unique<CosineAnnealingLR<AdamW<cpu>>>(*o, 5);
    return std::pair(std::move(o), std::move(s));
  });
  both("Adadelta + MultiStepLR", [](TwoParams& m) {
    auto o = std::make_unique<Adadelta<cpu>>(m, Adadelta<cpu>::Options{});
    auto s = std::make_unique<MultiStepLR<Adadelta<cpu>>>(*o, std::vector<std::int64_t>{2, 4});
    return std::pair(std::move(o), std::move(s));
  });
  both("RMSprop + SequentialLR", [](TwoParams& m) {
    auto o = std::make_unique<RMSprop<cpu>>(m, RMSprop<cpu>::Options{.momentum = 0.5, .centered = true});
    auto s = std::make_unique<SequentialLR<RMSprop<cpu>>>(
        *o, std::vector<LRRule>{lr_rules::linear(0.2, 1, 2), lr_rules::cosine(4, 0)}, std::vector<std::int64_t>{2});
    return std::pair(std::move(o), std::move(s));
  });
  std::filesystem::remove_all(dir);
}

TEST_CASE("dropout's streams: kept by training checkpoints, left out of model files, seeded by name") {
  using Net = Sequential<Linear<8, 8>, Dropout<>, Linear<8, 8>, Dropout<>>;
  Net a, b;
  seed_streams(a, 7);
  seed_streams(b, 7);
  std::vector<std::int64_t> seeds;
  a.visit("", [&](const std::string&, auto& e) {
    if constexpr (std::is_same_v<std::decay_t<decltype(e)>, Stream>) seeds.push_back(e.seed.value);
  });
  REQUIRE(seeds.size() == 2);
  CHECK(seeds[0] != seeds[1]);
  Tensor<Vec<8>, cpu> x(4);
  std::fill(x.data(), x.data() + x.numel(), 1.f);
  a.forward(x.view());
  a.forward(x.view());
  const auto dir = test_util::temp_dir("streams");
  save_checkpoint(dir / "train.safetensors", {}, part("", a), part("streams.", streams_of(a)));
  save_checkpoint(dir / "model.safetensors", {}, part("", a));
  const auto model_file = safetensors::read(dir / "model.safetensors");
  CHECK(model_file.tensors.size() == 4);  // the two Linears' weights and biases, nothing else
  for (const auto& [name, t] : model_file.tensors) CHECK(name.find("stream") == std::string::npos);
  load_checkpoint(dir / "train.safetensors", {}, part("", b), part("streams.", streams_of(b)));
  const auto ya = a.forward(x.view());
  const std::vector<float> first(ya.data, ya.data + ya.numel());
  const auto yb = b.forward(x.view());
  CHECK(std::equal(first.begin(), first.end(), yb.data));  // the same third mask
  std::filesystem::remove_all(dir);
}

TEST_CASE("augmentation: crops shift with zero padding, flips mirror, draws depend on (seed, epoch, sample)") {
  const int h = 4, w = 5;
  std::vector<float> img(2 * h * w), out(img.size()), again(img.size());
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = float(i + 1);
  int flips = 0, shifted = 0;
  for (int s = 0; s < 400; ++s) {
    augment_image(img.data(), out.data(), 2, h, w, {.crop_padding = 2, .horizontal_flip = true}, 9, 3, s);
    augment_image(img.data(), again.data(), 2, h, w, {.crop_padding = 2, .horizontal_flip = true}, 9, 3, s);
    CHECK(out == again);
    // Find the shift and flip that explain the output: every output pixel is a source pixel or zero.
    bool explained = false;
    for (int dy = -2; dy <= 2 && !explained; ++dy)
      for (int dx = -2; dx <= 2 && !explained; ++dx)
        for (int flip = 0; flip < 2 && !explained; ++flip) {
          bool ok = true;
          for (int c = 0; c < 2 && ok; ++c)
            for (int y = 0; y < h && ok; ++y)
              for (int x = 0; x < w && ok; ++x) {
                const int sy = y + dy, sx0 = x + dx, sx = flip ? w - 1 - sx0 : sx0;
                const float expect = sy >= 0 && sy < h && sx0 >= 0 && sx0 < w ? img[(c * h + sy) * w + sx] : 0.f;
                ok = out[(c * h + y) * w + x] == expect;
              }
          if (ok) {
            explained = true;
            flips += flip;
            shifted += dy != 0 || dx != 0;
          }
        }
    CHECK(explained);
  }
  CHECK(flips > 150);
  CHECK(flips < 250);
  CHECK(shifted > 300);  // 24 of the 25 offsets move the image
  augment_image(img.data(), again.data(), 2, h, w, {.crop_padding = 2, .horizontal_flip = true}, 9, 4, 399);
  CHECK(out != again);  // another epoch, other draws

  // The loader applies it to every sample it copies, the same whatever the batch size.
  ImageSet set = test_util::constant_images(10, 0.f);
  for (int i = 0; i < 10; ++i) set.images[std::size_t(i) * set.sample_size() + 3] = float(i + 1);
  ShuffledLoader whole(set, 10, 5), halves(set, 5, 5);
  whole.set_augmentation({.crop_padding = 1, .horizontal_flip = true});
  halves.set_augmentation({.crop_padding = 1, .horizontal_flip = true});
  std::vector<float> a(std::size_t(10 * set.sample_size())), b(a.size());
  std::vector<std::uint8_t> la(10), lb(10);
  whole.fill(2, 0, a.data(), la.data());
  halves.fill(2, 0, b.data(), lb.data());
  halves.fill(2, 1, b.data() + 5 * set.sample_size(), lb.data() + 5);
  CHECK(a == b);
  ShuffledLoader plain(set, 10, 5);
  std::vector<float> c(a.size());
  plain.fill(2, 0, c.data(), la.data());
  CHECK(a != c);
  CHECK_THROWS_AS(plain.set_augmentation({.crop_padding = -1}), Error);
}

TEST_CASE("a batch seen as an Eigen tensor and back, without copies") {
  using S = Shape<2, 3, 4>;
  Tensor<S, cpu> x(5);
  for (std::ptrdiff_t i = 0; i < x.numel(); ++i) x.data()[i] = float(i);
  auto t = as_eigen(x.view());
  CHECK(t.data() == x.data());
  CHECK(t.dimension(0) == 5);
  CHECK(t(1, 2, 0, 3) == float(((1 * 2 + 2) * 3 + 0) * 4 + 3));
  Eigen::Tensor<float, 0, Eigen::RowMajor> total = t.sum();
  CHECK(total() == float(x.numel() * (x.numel() - 1) / 2));
  t = t * 2.f;  // Eigen writes into unetflow's memory
  CHECK(x.data()[7] == 14.f);
  auto v = from_eigen<S, float>(t);
  CHECK(v.data == x.data());
  CHECK(v.n == 5);
  CHECK_THROWS_WITH_AS((from_eigen<Shape<2, 4, 3>, float>(t)), "from_eigen: the tensor's samples are 2x3x4, not 2x4x3.",
                       Error);
  View<S, float> slice{x.data(), 2, 2 * S::size};
  CHECK_THROWS_AS(as_eigen(slice), Error);
}

TEST_CASE("LayerNorm's backward gives the same gradients into dy's own memory, into a fresh dx and accumulated") {
  using S = Shape<3, 5, 4>;
  Rng rng(23);
  LayerNorm<S> ln;
  std::vector<float> w(static_cast<std::size_t>(S::size));
  rng.fill_normal(w.data(), w.size());
  ln.weight.from_host(w.data());
  Tensor<S, cpu> x(2), y(2), dy(2), dx(2), in_place(2), accumulated(2);
  rng.fill_normal(x.data(), x.numel());
  rng.fill_normal(dy.data(), dy.numel());
  ln.forward(x.view(), y.view());
  zero_grad(ln);
  ln.backward(x.view(), View<S, const float>(dy.view()), dx.view());
  const auto grads = [](Param<cpu>& p) { return std::vector<float>(p.grad.data(), p.grad.data() + p.size); };
  const auto grad_w = grads(ln.weight), grad_b = grads(ln.bias);
  std::copy(dy.data(), dy.data() + dy.numel(), in_place.data());
  zero_grad(ln);
  ln.backward(x.view(), View<S, const float>(in_place.view()), in_place.view());
  CHECK(in_place.to_vector() == dx.to_vector());
  CHECK(grads(ln.weight) == grad_w);
  CHECK(grads(ln.bias) == grad_b);
  cpu::fill(accumulated.data(), accumulated.numel(), 0.5f);
  ln.backward(x.view(), View<S, const float>(dy.view()), accumulated.view(), true);
  for (std::ptrdiff_t k = 0; k < dx.numel(); ++k) CHECK(accumulated.data()[k] == doctest::Approx(dx.data()[k] + 0.5f));
  double largest = 0;
  for (float v : dx.to_vector()) largest = std::max(largest, double(std::abs(v)));
  CHECK(largest > 0.1);
}
