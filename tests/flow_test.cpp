// Flow matching: one full training step and one classifier-free-guidance sampling step against PyTorch on fixed
// inputs and noise; the Euler sampler lands on the target of an exact velocity field; each ODE solver has its
// order; sampling runs in eval mode; the task's draws of t, uniform or logit-normal.
#include "fixture.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <unetflow/flow/flow_matching.hpp>

#include "colour_training.hpp"
#include "test_util.hpp"

using namespace unetflow;
using fixture::load;
using Model = ClassTimeUNet<1, 28, 28, 8, 10>;
using In = Model::In;

TEST_CASE("a flow-matching training step matches PyTorch (forward, loss, backward, Adam)") {
  auto m = std::make_unique<Model>();
  fixture::load_state(*m, "fm_step");
  set_training(*m, true);
  Adam<cpu> adam(*m, {.lr = 1e-2});
  auto x1 = load<In>("fm_step/x1"), x0 = load<In>("fm_step/x0");
  auto t = load<Vec<1>>("fm_step/t");
  auto c = load<Vec<10>>("fm_step/c");
  FlowMatchingLoss<Model> objective;
  adam.zero_grad();
  const float loss = float(objective(*m, x1.view(), x0.view(), t.view(), c.view()));
  EXPECT_MATCHES(&loss, 1, "fm_step/loss");
  fixture::check_state_after(*m, "fm_step");  // every gradient, and the running statistics
  double largest_grad = 0;
  m->visit("", [&](const std::string& name, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) largest_grad = std::max(largest_grad, fixture::max_abs("fm_step/grad." + name));
  });
  std::map<std::string, std::vector<float>> before;
  m->visit("", [&](const std::string& name, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) before[name] = e.to_host();
  });
  adam.step();
  // Adam's first step is lr * g / (|g| + eps), about lr * sign(g): where the gradient is rounding noise (below
  // 1e-4 of the largest; chiefly the biases of convolutions followed by training-mode batch norm, zero in exact
  // arithmetic) the sign is noise in both libraries, and only the bound |step| <= lr holds. Elsewhere the
  // parameters after the step must match.
  m->visit("", [&](const std::string& name, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) {
      const auto after = e.to_host(), ref = fixture::values("fm_step/after." + name), g = fixture::values("fm_step/grad." + name);
      const auto& old = before[name];
      double err = 0, mag = 0, noise_step = 0;
      for (std::size_t i = 0; i < after.size(); ++i) {
        mag = std::max(mag, double(std::abs(ref[i])));
        if (std::abs(g[i]) >= 1e-4 * largest_grad) err = std::max(err, double(std::abs(after[i] - ref[i])));
        else noise_step = std::max(noise_step, double(std::abs(after[i] - old[i])));
      }
      INFO("parameter " << name << " after the Adam step: relative max error " << err / mag << ", largest step where the gradient is noise " << noise_step);
      CHECK(err / mag <= fixture::tolerance);
      CHECK(noise_step <= 1e-2 * (1 + 1e-6));
    }
  });
}

TEST_CASE("a classifier-free-guidance sampling step matches PyTorch") {
  auto m = std::make_unique<Model>();
  fixture::load_state(*m, "cfg_step");
  set_training(*m, false);
  auto x = load<In>("cfg_step/x");
  Tensor<In, cpu> u(x.n());
  FlowSampler<Model> sampler;
  sampler.prepare_classes({3, 7, -1});
  sampler.guided_velocity(*m, x.view(), 0.3f, 5.0, u.view());
  for (std::ptrdiff_t k = 0; k < x.numel(); ++k) x.data()[k] += u.data()[k] / 50;
  EXPECT_MATCHES(x.data(), x.numel(), "cfg_step/x_next");
}

TEST_CASE("guidance at gamma 0 and 1 (one pass of n) is the two-pass blend's unconditional and conditional velocity") {
  auto m = std::make_unique<Model>();
  fixture::load_state(*m, "cfg_step");
  set_training(*m, false);
  auto x = load<In>("cfg_step/x");
  FlowSampler<Model> sampler;
  sampler.prepare_classes({3, 7, -1});
  auto at = [&](double gamma) {
    Tensor<In, cpu> u(x.n());
    sampler.guided_velocity(*m, x.view(), 0.3f, gamma, u.view());
    return u.to_vector();
  };
  // u(gamma) = u_uncond + gamma (u_cond - u_uncond): from gamma 2 and 3, u_cond = 2 u(2) - u(3), u_uncond = 3 u(2) - 2
  // u(3).
  const auto u2 = at(2), u3 = at(3), cond = at(1), uncond = at(0);
  double err_cond = 0, err_uncond = 0, mag = 0, gap = 0;
  for (std::size_t k = 0; k < u2.size(); ++k) {
    mag = std::max(mag, double(std::abs(u2[k])));
    err_cond = std::max(err_cond, std::abs(double(cond[k]) - (2.0 * u2[k] - u3[k])));
    err_uncond = std::max(err_uncond, std::abs(double(uncond[k]) - (3.0 * u2[k] - 2.0 * u3[k])));
    gap = std::max(gap, double(std::abs(cond[k] - uncond[k])));
  }
  INFO("relative errors " << err_cond / mag << " (conditional), " << err_uncond / mag << " (unconditional)");
  CHECK(err_cond <= 1e-5 * mag);
  CHECK(err_uncond <= 1e-5 * mag);
  // The classes move this barely trained fixture's velocity little (about 2e-4 of it); the errors must be far smaller.
  CHECK(err_cond <= 0.02 * gap);
  CHECK(err_uncond <= 0.02 * gap);
  // The third sample asks for no class: its conditional velocity is its unconditional one.
  for (std::size_t k = 2 * In::size; k < 3 * In::size; ++k) CHECK(cond[k] == doctest::Approx(uncond[k]).epsilon(1e-5));
}

TEST_CASE("the Euler sampler lands on the target of an exact velocity field") {
  using S = Shape<1, 4, 4>;
  Rng rng(1);
  Tensor<S, cpu> x(3), buffer(3), target(3);
  rng.fill_normal(x.data(), x.numel());
  rng.fill_uniform(target.data(), target.numel());
  // The flow-matching field of a point mass at `target`: u(x, t) = (target - x) / (1 - t).
  euler<cpu>(x.view(), 50, [&](View<S, const float> xs, double t, View<S, float> out) {
    for (std::ptrdiff_t k = 0; k < xs.numel(); ++k) out.data[k] = float((target.data()[k] - xs.data[k]) / (1 - t));
  }, buffer.view());
  for (std::ptrdiff_t k = 0; k < x.numel(); ++k) CHECK(x.data()[k] == doctest::Approx(target.data()[k]).epsilon(1e-5));
  // A constant field moves every point by exactly that vector over t in [0, 1].
  Tensor<S, cpu> y(1);
  cpu::fill(y.data(), y.numel(), 0.25f);
  euler<cpu>(y.view(), 7, [&](View<S, const float>, double, View<S, float> out) { cpu::fill(out.data, out.numel(), 0.5f); }, buffer.view());
  for (std::ptrdiff_t k = 0; k < y.numel(); ++k) CHECK(y.data()[k] == doctest::Approx(0.75f).epsilon(1e-6));
}

TEST_CASE("each ODE solver's error falls with its order when the steps double") {
  // dx/dt = (1 + t) x, so x(1) = x(0) e^1.5: a linear field whose coefficient depends on t, so a stage evaluated
  // at the wrong time shows as a lower order.
  using S = Shape<1, 1, 3>;
  auto error = [](Solver solver, int steps) {
    Tensor<S, cpu_f64> x(2);
    for (int k = 0; k < 6; ++k) x.data()[k] = 0.5 + 0.25 * k;
    OdeWorkspace<S, cpu_f64> w;
    int evaluations = 0;
    integrate<cpu_f64>(solver, x.view(), steps, [&](View<S, const double> p, double t, View<S, double> out) {
      ++evaluations;
      for (std::ptrdiff_t k = 0; k < p.numel(); ++k) out.data[k] = (1 + t) * p.data[k];
    }, w);
    CHECK(evaluations == steps * evaluations_per_step(solver));
    double e = 0;
    for (int k = 0; k < 6; ++k) e = std::max(e, std::abs(x.data()[k] - (0.5 + 0.25 * k) * std::exp(1.5)));
    return e;
  };
  const struct {
    Solver solver;
    double ratio;
  } expected[] = {{Solver::euler, 2}, {Solver::midpoint, 4}, {Solver::heun, 4}, {Solver::rk4, 16}};
  for (const auto& row : expected) {
    const Solver solver = row.solver;
    const double ratio = row.ratio;
    const double coarse = error(solver, 16), fine = error(solver, 32);
    INFO(solver_name(solver) << ": error " << coarse << " at 16 steps, " << fine << " at 32");
    CHECK(coarse / fine == doctest::Approx(ratio).epsilon(0.1));
  }
  CHECK(error(Solver::rk4, 16) < error(Solver::heun, 16));
  CHECK(solver_from_name("heun") == Solver::heun);
  CHECK(test_util::error_of([] { solver_from_name("rk45"); }) == "solver 'rk45' is not one of euler, midpoint, heun, rk4.");
}

TEST_CASE("sampling uses evaluation mode and gives finite samples") {
  auto m = std::make_unique<ClassTimeUNet<1, 28, 28, 4, 10>>();
  Rng rng(2);
  reset_parameters(*m, rng);
  const auto tracked = m->top.down.first.bn.num_batches_tracked.value;
  FlowSampler<ClassTimeUNet<1, 28, 28, 4, 10>> sampler;
  auto x = sampler.sample(*m, {0, 1, 2, -1}, 5.0, 4, rng);
  CHECK(x.n == 4);
  CHECK(m->top.down.first.bn.num_batches_tracked.value == tracked);  // no batch statistics were used or moved
  for (std::ptrdiff_t k = 0; k < x.numel(); ++k) REQUIRE(std::isfinite(x.data[k]));
  auto tm = std::make_unique<TimeUNet<1, 28, 28, 4>>();
  reset_parameters(*tm, rng);
  FlowSampler<TimeUNet<1, 28, 28, 4>> plain;
  CHECK(plain.sample(*tm, 3, 4, rng).n == 3);
}

TEST_CASE("a 3x32x32 class-conditioned UNet (CIFAR-sized) trains: the flow-matching loss falls") {
  using Colour = ClassTimeUNet<3, 32, 32, 4, 10>;
  using Deepest = Colour::top_type::inner_type::inner_type;  // d2 ... u1 around the bottleneck
  static_assert(std::is_same_v<Deepest::inner_shape<Shape<4, 16, 16>>, Shape<8, 8, 8>>);  // unflat: 1x1 -> 8x8
  auto m = std::make_unique<Colour>();
  Rng rng(4);
  reset_parameters(*m, rng);
  const auto losses = test_util::train_on_flat_colours(*m, rng);
  const double first = losses.first, last = losses.second;
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.8 * first);  // the loss has a floor well above 0 (x1 - x0 is not predictable from xt alone)
  FlowSampler<Colour> sampler;
  sampler.solver = Solver::heun;
  auto samples = sampler.sample(*m, {1, 6}, 3.0, 4, rng);
  CHECK(samples.n == 2);
  CHECK(std::isfinite(samples.data[3 * 1024 - 1]));
}

namespace {
// A model that keeps the times it is asked about (its velocity is zero): the task's draws of t, seen from outside.
struct TimeProbe {
  using In = Shape<1, 2, 2>;
  using backend = cpu;
  using T = float;
  using ClassIn = Vec<1>;
  static constexpr int classes = 0;
  std::vector<double> times;
  Tensor<In, cpu> out;
  View<In, float> forward(View<In, const float> x, View<Vec<1>, const float> t) {
    times.insert(times.end(), t.data, t.data + t.n);
    return out.resize(x.n);
  }
};
// mean and standard deviation
std::pair<double, double> moments(const std::vector<double>& v) {
  double s = 0, ss = 0;
  for (double x : v) s += x;
  const double m = s / double(v.size());
  for (double x : v) ss += (x - m) * (x - m);
  return {m, std::sqrt(ss / double(v.size() - 1))};
}
}  // namespace

TEST_CASE("the flow-matching task draws t uniform (B.1), or logit-normal when asked: sigmoid of N(mean, std)") {
  for (bool logit_normal : {false, true}) {
    CAPTURE(logit_normal);
    TimeProbe probe;
    FlowMatchingTask<TimeProbe> task(0.0);
    task.time_sampling = {.logit_normal = logit_normal, .mean = 0.5, .std = 0.8};
    Tensor<TimeProbe::In, cpu> x(1000);
    Rng rng(5);
    for (int i = 0; i < 40; ++i) task.forward(probe, x.view(), nullptr, rng);
    REQUIRE(probe.times.size() == 40000);
    CHECK(*std::min_element(probe.times.begin(), probe.times.end()) > 0.0);
    CHECK(*std::max_element(probe.times.begin(), probe.times.end()) < 1.0);
    if (logit_normal) {
      std::vector<double> logits;
      for (double t : probe.times) logits.push_back(std::log(t / (1 - t)));
      const auto [m, s] = moments(logits);  // standard errors 0.004 and 0.003
      CHECK(m == doctest::Approx(0.5).epsilon(0.04));
      CHECK(s == doctest::Approx(0.8).epsilon(0.02));
    } else {
      const auto [m, s] = moments(probe.times);  // U[0, 1]: 1/2 and 1/sqrt(12); standard errors 0.0015, 0.0007
      CHECK(m == doctest::Approx(0.5).epsilon(0.01));
      CHECK(s == doctest::Approx(1 / std::sqrt(12.0)).epsilon(0.01));
    }
  }
}
