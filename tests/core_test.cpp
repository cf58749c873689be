// Values, random streams, default initialisation, parameter counts and the train/eval switch.
#include <doctest/doctest.h>

#include <cmath>
#include <unetflow/unetflow.hpp>
#include <vector>

using namespace unetflow;

TEST_CASE("parameter counts equal SPEC's") {
  auto unet = std::make_unique<UNet<1, 28, 28, 128>>();
  auto time = std::make_unique<TimeUNet<1, 28, 28, 64>>();
  auto cls = std::make_unique<ClassTimeUNet<1, 28, 28, 64, 10>>();
  CHECK(parameter_count(*unet) == 7'891'073);
  CHECK(parameter_count(*time) == 1'996'417);
  CHECK(parameter_count(*cls) == 2'019'201);
}

TEST_CASE("shapes are derived at compile time") {
  using M = UNet<1, 28, 28, 16>;
  using Outer = M::top_type;                 // c0 ... c1
  using Level1 = Outer::inner_type;          // d1 ... u2
  using Level2 = Level1::inner_type;         // d2 ... u1
  using X0 = Outer::down_shape<M::In>;
  using X1 = Level1::down_shape<X0>;
  static_assert(std::is_same_v<X1, Shape<16, 14, 14>>);
  static_assert(std::is_same_v<Level2::down_shape<X1>, Shape<32, 7, 7>>);
  static_assert(std::is_same_v<Level2::inner_shape<X1>, Shape<32, 7, 7>>);  // the bottleneck's unflat
  static_assert(std::is_same_v<Level2::cat_shape<X1>, Shape<64, 7, 7>>);
  static_assert(std::is_same_v<Outer::cat_shape<M::In>, Shape<32, 28, 28>>);
  static_assert(Outer::unet_depth == 3 && Level2::unet_depth == 1);
  static_assert(std::is_same_v<DownBlock<16, 32>::output_shape<Shape<16, 28, 28>>, Shape<32, 14, 14>>);
  static_assert(std::is_same_v<UpConv<8, 4>::output_shape<Shape<8, 7, 7>>, Shape<4, 14, 14>>);
  CHECK(M::Out::size == 784);
}

TEST_CASE("random streams are reproducible and independent") {
  Rng a(42, 0), b(42, 0), c(42, 1);
  std::vector<double> va, vb, vc;
  for (int i = 0; i < 100; ++i) {
    va.push_back(a.normal());
    vb.push_back(b.normal());
    vc.push_back(c.normal());
  }
  CHECK(va == vb);
  CHECK(va != vc);
  // A saved state replays the same numbers (what resume relies on), also mid-pair of Box-Muller.
  a.normal();
  const auto saved = a.state();
  std::vector<double> first, second;
  for (int i = 0; i < 5; ++i) first.push_back(a.normal());
  a.set_state(saved);
  for (int i = 0; i < 5; ++i) second.push_back(a.normal());
  CHECK(first == second);
}

TEST_CASE("random distributions have the right moments") {
  Rng r(7);
  const int n = 200000;
  double sn = 0, sn2 = 0, su = 0, umin = 1, umax = 0, hits = 0;
  for (int i = 0; i < n; ++i) {
    const double z = r.normal(), u = r.uniform();
    sn += z;
    sn2 += z * z;
    su += u;
    umin = std::min(umin, u);
    umax = std::max(umax, u);
    hits += r.bernoulli(0.1);
  }
  CHECK(sn / n == doctest::Approx(0).epsilon(0.01).scale(1));
  CHECK(sn2 / n == doctest::Approx(1).epsilon(0.01));
  CHECK(su / n == doctest::Approx(0.5).epsilon(0.01));
  CHECK(umin >= 0);
  CHECK(umax < 1);
  CHECK(hits / n == doctest::Approx(0.1).epsilon(0.03));
}

TEST_CASE("default initialisation follows PyTorch's bounds") {
  Rng rng(3);
  auto check_uniform = [](const Param<cpu>& p, double bound) {
    const auto v = p.to_host();
    double mx = 0, s2 = 0;
    for (float x : v) {
      mx = std::max(mx, double(std::abs(x)));
      s2 += double(x) * x;
    }
    CHECK(mx <= bound);
    if (v.size() < 1000) return;  // too few draws for the moments
    CHECK(mx > 0.99 * bound);
    CHECK(s2 / v.size() == doctest::Approx(bound * bound / 3).epsilon(0.05));
  };
  Conv2d<64, 32, 3> conv;
  reset_parameters(conv, rng);
  check_uniform(conv.weight, 1 / std::sqrt(64.0 * 9));
  check_uniform(conv.bias, 1 / std::sqrt(64.0 * 9));
  ConvTranspose2d<64, 32, 4, 2, 1> convt;  // fan_in = Cout * K * K, as PyTorch computes it
  reset_parameters(convt, rng);
  check_uniform(convt.weight, 1 / std::sqrt(32.0 * 16));
  Linear<100, 50> fc;
  reset_parameters(fc, rng);
  check_uniform(fc.weight, 0.1);
  BatchNorm2d<8> bn;
  reset_parameters(bn, rng);
  for (float g : bn.weight.to_host()) CHECK(g == 1.f);
  for (float b : bn.bias.to_host()) CHECK(b == 0.f);
}

TEST_CASE("train and eval modes switch batch norm") {
  auto model = std::make_unique<UNet<1, 28, 28, 4>>();
  Rng rng(1);
  reset_parameters(*model, rng);
  Tensor<Shape<1, 28, 28>, cpu> x(4);
  rng.fill_normal(x.data(), x.numel());
  auto first_sample = [&](int n) {
    auto y = model->forward(View<Shape<1, 28, 28>, const float>{x.data(), n});
    return std::vector<float>(y.data, y.data + 784);
  };
  // Training: batch statistics, so the first sample's output depends on the rest of the batch.
  CHECK(first_sample(4) != first_sample(2));
  CHECK(model->top.down.first.bn.num_batches_tracked.value == 2);
  set_training(*model, false);
  // Evaluation: running statistics, so it does not, and the statistics stay put.
  const auto a = first_sample(4), b = first_sample(2);
  for (int i = 0; i < 784; ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-5));
  CHECK(model->top.down.first.bn.num_batches_tracked.value == 2);
}

TEST_CASE("a UNet backward consumes its forward: a second one without a forward stops") {
  auto model = std::make_unique<UNet<1, 28, 28, 4>>();
  Rng rng(3);
  reset_parameters(*model, rng);
  Tensor<Shape<1, 28, 28>, cpu> x(2), dy(2);
  rng.fill_normal(x.data(), x.numel());
  rng.fill_normal(dy.data(), dy.numel());
  CHECK_THROWS_WITH(model->backward(dy.view()),
                    "UNet::backward: no forward to go back through (each backward needs a forward of its own).");
  model->forward(x.view());
  model->backward(dy.view());
  const float first = model->top.down.first.conv.weight.grad.data()[0];
  CHECK(std::isfinite(first));
  CHECK_THROWS(model->backward(dy.view()));
  model->forward(x.view());
  model->backward(dy.view());  // accumulates: the same gradient again
  CHECK(model->top.down.first.conv.weight.grad.data()[0] == doctest::Approx(2 * first).epsilon(1e-5));
}
