#pragma once
// Finite-difference gradient checks in double precision, for a layer or block of your own:
//   auto report = testing::check_module_gradients<MyModule<cpu_f64>, Shape<2, 5, 5>>();
//   if (!report) std::puts(report.summary().c_str());
// For L = sum(y * r) with fixed random r, every probed entry of dL/dx and of each parameter's gradient, as backward
// computes them, must equal the central difference (L(v + h) - L(v - h)) / 2h within tol * max(1, |numeric|).
// Parameters are drawn at random first (those PyTorch starts at a constant, like BatchNorm's gamma and beta, too),
// so that the check does not run at a degenerate point.
#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "../backend/cpu.hpp"
#include "../param.hpp"
#include "../module.hpp"
#include "../random.hpp"
#include "../tensor.hpp"

namespace unetflow::testing {

struct GradientOptions {
  double h = 1e-6, tolerance = 1e-6;
  int batch = 2;
  int probes = 12;  // entries checked per tensor (all of them when it has fewer)
  bool training = true;
  std::uint64_t seed = 11;
};

struct GradientProbe {
  std::string tensor;
  std::ptrdiff_t index;
  double analytic, numeric;
  bool ok;
};

struct GradientReport {
  std::vector<GradientProbe> probes;
  explicit operator bool() const {
    return !probes.empty() && std::all_of(probes.begin(), probes.end(), [](const auto& p) { return p.ok; });
  }
  std::string summary() const {
    std::ostringstream out;
    int failed = 0;
    for (const auto& p : probes)
      if (!p.ok) {
        if (++failed <= 8)
          out << p.tensor << "[" << p.index << "]: analytic " << p.analytic << ", numeric " << p.numeric << "\n";
      }
    out << failed << " of " << probes.size() << " probes disagree";
    return out.str();
  }
};

// Randomises every parameter of a visitable module: the default initialisation, then uniform(0.5, 1.5) for those
// that start at 1 and uniform(-0.5, 0.5) for those that start at another constant.
template <class M>
void randomize_parameters(M& m, Rng& rng) {
  reset_parameters(m, rng);
  m.visit("", [&](const std::string&, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>)
      if (e.bound <= 0) rng.fill_uniform(e.data(), e.size, e.constant == 1 ? 0.5 : -0.5, e.constant == 1 ? 1.5 : 0.5);
  });
}

// Compares up to o.probes entries of `analytic` (all of them when there are fewer) with central differences of
// loss() in `value`, which is perturbed in place and restored; appends one probe each to the report.
template <class Loss>
void probe_gradient(GradientReport& report, const std::string& what, double* value, const double* analytic,
                    std::ptrdiff_t size, Loss&& loss, Rng& rng, const GradientOptions& o = {}) {
  for (int k = 0; k < o.probes && k < size; ++k) {
    const std::ptrdiff_t i = size <= o.probes ? k : std::ptrdiff_t(rng.below(std::uint64_t(size)));
    const double saved = value[i];
    value[i] = saved + o.h;
    const double up = loss();
    value[i] = saved - o.h;
    const double down = loss();
    value[i] = saved;
    const double numeric = (up - down) / (2 * o.h);
    const bool ok = std::abs(numeric - analytic[i]) <= o.tolerance * std::max(1.0, std::abs(numeric));
    report.probes.push_back({what, i, analytic[i], numeric, ok});
  }
}

// The general form. forward(x) returns a view of the output; backward(x, dy, dx) computes dx and accumulates the
// parameter gradients (it may overwrite dy). M is visitable; In, Out are the shapes; the backend is cpu_f64.
template <class In, class Out, class M, class Forward, class Backward>
GradientReport check_gradients(M& m, Forward forward, Backward backward, const GradientOptions& o = {}) {
  using B = cpu_f64;
  Rng rng(o.seed);
  randomize_parameters(m, rng);
  set_training(m, o.training);
  Tensor<In, B> x(o.batch), dx(o.batch);
  Tensor<Out, B> r(o.batch), dy(o.batch);
  rng.fill_normal(x.data(), x.numel());
  rng.fill_normal(r.data(), r.numel());
  auto loss = [&] {
    View<Out, double> y = forward(x.view());
    double s = 0;
    for (std::ptrdiff_t i = 0; i < y.numel(); ++i) s += y.data[i] * r.data()[i];
    return s;
  };
  GradientReport report;
  loss();
  zero_grad(m);
  B::copy(r.data(), dy.data(), r.numel());  // backward may overwrite dy; r must stay for the numeric losses
  backward(x.view(), dy.view(), dx.view());
  probe_gradient(report, "dx", x.data(), dx.data(), x.numel(), loss, rng, o);
  m.visit("", [&](const std::string& name, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) {
      const std::vector<double> grad(e.grad.data(), e.grad.data() + e.size);
      probe_gradient(report, name, e.data(), grad.data(), e.size, loss, rng, o);
    }
  });
  return report;
}

// A layer that follows the layer protocol (module.hpp), built on cpu_f64, for input shape In.
template <class L, class In>
GradientReport check_layer_gradients(const GradientOptions& o = {}) {
  using Out = typename L::template output_shape<In>;
  auto layer = std::make_unique<L>();
  Tensor<Out, cpu_f64> y(o.batch);
  return check_gradients<In, Out>(
      *layer,
      [&](View<In, double> x) {
        layer->forward(x, y.view());
        return y.view();
      },
      [&](View<In, double> x, View<Out, double> dy, View<In, double> dx) { layer->backward(x, dy, dx); }, o);
}

// Any module (module.hpp: a layer, block, Sequential or model of one input), built on cpu_f64, for input shape In.
template <class M, class In>
GradientReport check_module_gradients(const GradientOptions& o = {}) {
  static_assert(Module<M, In>, "check_module_gradients: M does not follow the module interface (module.hpp) for In");
  using Out = typename M::template output_shape<In>;
  auto module = std::make_unique<M>();
  return check_gradients<In, Out>(
      *module, [&](View<In, double> x) { return module->forward(x); },
      [&](View<In, double> x, View<Out, double> dy, View<In, double> dx) { module->backward(x, dy, dx); }, o);
}

}  // namespace unetflow::testing
