// UNets composed from levels (models/unet_level.hpp): deeper plain UNets, residual UNets with attention, their
// gradients against finite differences, their state names, conditioning at every level, and training.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <unetflow/testing/gradcheck.hpp>
#include <unetflow/unetflow.hpp>

#include "colour_training.hpp"

using namespace unetflow;

namespace {
using B64 = basic_cpu<double>;

// A time- and class-conditioned UNet as a one-input module for the gradient checker: t and c fixed per sample
// (they are inputs, not parameters; the conditioning networks' parameters are checked like any other).
template <class Net>
struct WithConditions {
  using backend = typename Net::backend;
  using T = typename backend::scalar;
  template <class In>
  using output_shape = typename Net::Out;
  Net net;
  Tensor<typename Net::TimeIn, backend> t;
  Tensor<typename Net::ClassIn, backend> c;

  template <class In, class U>
  View<typename Net::Out, T> forward(View<In, U> x) {
    if (t.view().n != x.n) {
      t = Tensor<typename Net::TimeIn, backend>(x.n);
      c = Tensor<typename Net::ClassIn, backend>(x.n);
      for (int s = 0; s < x.n; ++s) {
        t.view().data[s] = 0.2 + 0.5 * s;
        if (Net::classes > 0 && s + 1 < x.n) c.view().sample(s)[s % std::max(1, Net::classes)] = 1;  // the last sample: no class (all zeros)
      }
    }
    View<In, const T> input{x.data, x.n, x.stride};
    if constexpr (Net::classes > 0) return net.forward(input, t.view(), c.view());
    else return net.forward(input, t.view());
  }
  template <class In, class U, class V>
  void backward(View<In, U>, View<typename Net::Out, V> dy, View<In, T> dx, bool accumulate = false) {
    net.backward(View<typename Net::Out, const T>{dy.data, dy.n, dy.stride}, dx, accumulate);
  }
  template <class F>
  void visit(const std::string& prefix, F&& f) {
    net.visit(prefix, f);
  }
};

template <class M>
std::set<std::string> names_of(M& m) {
  std::set<std::string> names;
  m.visit("", [&](const std::string& name, auto&) { names.insert(name); });
  return names;
}
}  // namespace

TEST_CASE("UNet levels: the assignment's models keep their wiring and names, deeper ones name levels the same way") {
  auto assignment = std::make_unique<ClassTimeUNet<1, 28, 28, 4, 10>>();
  const auto names = names_of(*assignment);
  for (const char* name : {"c0.0.0.weight", "d1.1.1.1.running_mean", "d2.0.0.weight", "unflat.0.weight", "u1.0.0.weight",
                           "u2.1.0.1.bias", "c1.1.0.weight", "out.weight", "fc1_t.0.weight", "fc2_t.2.bias",
                           "fc1_c.0.weight", "fc2_c.2.weight"})
    CHECK_MESSAGE(names.count(name), name);
  CHECK(std::none_of(names.begin(), names.end(), [](const std::string& n) { return n.rfind("fc3", 0) == 0; }));

  // Three halvings, conditioned at every level: d1..d3, u1..u3, and fc1..fc4 (fc4: the outermost level's).
  using Deep = PlainUNet<1, 32, 32, 4, Widths<1, 2, 4>, TimeClassConditioned<10>>;
  static_assert(std::is_same_v<Deep::top_type::inner_type::inner_type::inner_type::down_shape<Shape<8, 8, 8>>,
                               Shape<16, 4, 4>>);
  auto deep = std::make_unique<Deep>();
  const auto deep_names = names_of(*deep);
  for (const char* name : {"d3.0.0.weight", "u3.0.0.weight", "unflat.0.weight", "fc3_t.0.weight", "fc4_t.0.weight",
                           "fc4_c.2.weight", "fc1_c.0.weight"})
    CHECK_MESSAGE(deep_names.count(name), name);
  const auto rows = Deep::output_shapes();
  CHECK(std::find(rows.begin(), rows.end(), std::pair<std::string, std::string>{"d3", "16x4x4"}) != rows.end());
  CHECK(std::find(rows.begin(), rows.end(), std::pair<std::string, std::string>{"u3", "4x32x32"}) != rows.end());
}

TEST_CASE("UNet levels: the time and the class reach every up level (each level's conditioning takes a gradient)") {
  using Net = PlainUNet<2, 16, 16, 4, Widths<1, 2, 2>, TimeClassConditioned<3>>;
  auto net = std::make_unique<WithConditions<Net>>();
  Rng rng(3);
  reset_parameters(*net, rng);
  Tensor<Net::In, cpu> x(4), dy(4);
  fill_normal(x, rng);
  fill_normal(dy, rng);
  net->forward(x.view());
  net->backward(x.view(), dy.view(), View<Net::In, float>{});
  int conditioned = 0;
  net->visit("", [&](const std::string& name, auto& entry) {
    if constexpr (requires { entry.grad; }) {
      if (name.rfind("fc", 0) != 0 || name.find(".0.weight") == std::string::npos) return;
      const auto g = entry.grad.data();
      double sum = 0;
      for (std::ptrdiff_t k = 0; k < entry.size; ++k) sum += std::abs(g[k]);
      INFO(name);
      CHECK(sum > 0);
      ++conditioned;
    }
  });
  CHECK(conditioned == 8);  // fc1..fc4, time and class
}

TEST_CASE("UNet levels: finite-difference gradients of a 3-level plain UNet and of residual UNets with attention") {
  for (bool training : {true, false}) {
    testing::GradientOptions options{.probes = 6, .training = training};
    auto plain = testing::check_module_gradients<WithConditions<PlainUNet<2, 16, 16, 3, Widths<1, 2, 2>, TimeClassConditioned<3>, B64>>,
                                                 Shape<2, 16, 16>>(options);
    INFO(plain.summary());
    CHECK(plain);
    auto res = testing::check_module_gradients<WithConditions<ResUNet<2, 8, 8, 4, Widths<1, 2>, TimeClassConditioned<3>, 4, 2, B64>>,
                                               Shape<2, 8, 8>>(options);
    INFO(res.summary());
    CHECK(res);
    auto time_only = testing::check_module_gradients<WithConditions<ResUNet<1, 8, 8, 4, Widths<1, 1>, TimeConditioned, 2, 2, B64>>,
                                                     Shape<1, 8, 8>>(options);
    INFO(time_only.summary());
    CHECK(time_only);
    // Unconditioned: the module interface itself (module.hpp), attention in the middle level.
    auto bare = testing::check_module_gradients<ResUNet<2, 8, 8, 4, Widths<1, 2>, Unconditioned, 4, 1, B64>, Shape<2, 8, 8>>(options);
    INFO(bare.summary());
    CHECK(bare);
  }
}

TEST_CASE("a 3-level class-conditioned residual UNet with attention at 8x8 trains on 3x32x32 images: the loss falls") {
  using Net = ResUNet<3, 32, 32, 8, Widths<1, 2, 2>, TimeClassConditioned<10>, 8, 2>;
  // 32 -> 16 -> 8 -> 4; the level whose down module ends at 8x8 attends.
  using Level2 = Net::top_type::inner_type::inner_type;
  static_assert(std::is_same_v<Level2::down_shape<Shape<8, 16, 16>>, Shape<16, 8, 8>>);
  static_assert(std::is_same_v<Level2::down_type::module_type<2>, SelfAttention<16, 2>>);
  static_assert(Net::time_conditioned && Net::classes == 10);
  auto m = std::make_unique<Net>();
  Rng rng(5);
  reset_parameters(*m, rng);
  const auto losses = test_util::train_on_flat_colours(*m, rng);
  const double first = losses.first, last = losses.second;  // (not bound: clang 14 refuses bindings in INFO)
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.8 * first);
  FlowSampler<Net> sampler;
  auto samples = sampler.sample(*m, {2, 5, -1}, 3.0, 4, rng);
  CHECK(samples.n == 3);
  for (std::ptrdiff_t k = 0; k < samples.numel(); ++k) REQUIRE(std::isfinite(samples.data[k]));
}

TEST_CASE("UNet<3, 32, 32, 64> denoises colour images: its loss falls within a few Adam steps") {
  using Net = UNet<3, 32, 32, 64>;
  static_assert(std::is_same_v<Net::top_type::inner_type::inner_type::down_shape<Shape<64, 16, 16>>, Shape<128, 8, 8>>);
  auto net = std::make_unique<Net>();
  Rng rng(8);
  reset_parameters(*net, rng);
  Adam<cpu> adam(*net, {.lr = 1e-3});
  constexpr int n = 4;
  Tensor<Net::In, cpu> x(n), z(n), grad(n);
  std::vector<double> losses;
  for (int step = 0; step < 8; ++step) {
    for (int s = 0; s < n; ++s)
      for (int k = 0; k < 3; ++k) cpu::fill(x.view().sample(s) + k * 1024, 1024, ((s + step) >> k & 1) ? 0.9f : 0.1f);
    fill_normal(z, rng, 0.0, 0.3);
    for (std::ptrdiff_t i = 0; i < x.numel(); ++i) z.view().data[i] += x.view().data[i];
    auto y = net->forward(z.view());
    losses.push_back(mse_loss<cpu>(y, x.view(), grad.view()));
    adam.zero_grad();
    net->backward(grad.view());
    adam.step();
  }
  INFO("loss " << losses.front() << " -> " << losses.back());
  CHECK(losses.back() < 0.5 * losses.front());
}
