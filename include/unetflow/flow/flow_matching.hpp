#pragma once
// Part 2 of the assignment: flow matching (docs/models.md, "Algorithms").
//   B.1  training: x1 data, x0 ~ N(0, I), t ~ U[0, 1], xt = (1 - t) x0 + t x1, loss ||(x1 - x0) - u(xt, t)||^2
//   B.3  class-conditioned: c = one-hot(label), replaced by zeros with probability p_uncond
//   B.2  sampling: x ~ N(0, I); for i = 0 .. T-1, t = i / T: x <- x + u(x, t) / T (Euler; ode.hpp has the
//        higher-order solvers FlowSampler::solver selects)
//   B.4  classifier-free guidance: u = u_uncond + gamma (u_cond - u_uncond), both passes as one batch of 2n
// The deterministic parts (guided_velocity, euler; FlowMatchingLoss in train/tasks/flow_matching.hpp) take their
// noise as arguments, so that tests can compare them with PyTorch on fixed inputs; the task and the sampler draw it.
#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../backend/recorded_step.hpp"
#include "../random.hpp"
#include "../tensor.hpp"
#include "../transfer.hpp"
#include "ode.hpp"

namespace unetflow {

// The model's velocity at (x, t[, c]) for a time- or class-and-time-conditioned UNet.
template <class Model>
View<typename Model::In, typename Model::T> velocity(Model& m, View<typename Model::In, const typename Model::T> x,
                                                     View<Vec<1>, const typename Model::T> t,
                                                     View<typename Model::ClassIn, const typename Model::T> c) {
  if constexpr (Model::classes > 0)
    return m.forward(x, t, c);
  else
    return m.forward(x, t);
}

// Euler integration of dx/dt = u(x, t) from t = 0 to 1 in T steps: x <- x + u(x, i / T) / T.
// u(x, t, out) writes the velocity of every sample; x (contiguous) is updated in place.
template <class B, class S, class T, class Field>
void euler(View<S, T> x, int steps, Field&& u, View<S, T> velocity_buffer) {
  for (int i = 0; i < steps; ++i) {
    const double t = double(i) / steps;
    u(View<S, const T>(x), t, velocity_buffer);
    B::blend(x.data, velocity_buffer.data, x.numel(), T(1), T(1) / T(steps));
  }
}

// Samples from a time- (and class-) conditioned UNet in eval mode. Its buffers are sized for the largest
// request and reused: no allocation inside the step loop.
template <class Model>
class FlowSampler {
 public:
  using In = typename Model::In;
  using B = typename Model::backend;
  using T = typename B::scalar;
  using C = typename Model::ClassIn;

  // The ODE solver (flow/ode.hpp): Euler as the assignment's B.2, or a higher-order one. `steps` counts solver
  // steps; each takes evaluations_per_step(solver) model evaluations.
  Solver solver = Solver::euler;

  // B.2: n samples from noise drawn from rng, `steps` steps. Without classes.
  View<In, T> sample(Model& m, int n, int steps, Rng& rng) requires(Model::classes == 0) {
    check_request(n, steps);
    auto evaluation = eval_mode(m);  // the model's modes come back as they were
    auto x = x_.resize(n);
    draw_normal<B>(rng, x.data, x.numel(), staging_);
    auto t = t_.resize(n);
    integrate<B>(
        solver, x, steps,
        [&](View<In, const T> point, double time, View<In, T> out) {
          B::fill(t.data, n, T(time));
          // The solver's point is always the same buffer: the recorded evaluation replays for every stage.
          graph_.run({std::uintptr_t(n), key_of(point.data), key_of(&m), modes_key(m)},
                     [&] { velocity_ = m.forward(point, View<Vec<1>, const T>(t)).data; });
          B::copy(velocity_, out.data, out.numel());
        },
        ode_);
    return x;
  }

  // B.4: one sample per entry of `labels` (0-9, or -1 for "no class") with guidance gamma.
  View<In, T> sample(Model& m, const std::vector<int>& labels, double gamma, int steps,
                     Rng& rng) requires(Model::classes > 0) {
    const int n = int(labels.size());
    check_request(n, steps);
    for (int label : labels)
      if (label < -1 || label >= Model::classes)
        throw Error("FlowSampler::sample: label " + std::to_string(label) + " is outside -1 (no class) .. " +
                    std::to_string(Model::classes - 1) + ".");
    auto evaluation = eval_mode(m);
    auto x = x_.resize(n);
    draw_normal<B>(rng, x.data, x.numel(), staging_);
    prepare_classes(labels);
    integrate<B>(
        solver, x, steps,
        [&](View<In, const T> point, double time, View<In, T> out) { guided_velocity(m, point, T(time), gamma, out); },
        ode_);
    return x;
  }

  // u = u_uncond + gamma (u_cond - u_uncond) at time t, the two passes as one batch of 2n: [x; x] with
  // classes [c; 0]; gamma 1 is u_cond and gamma 0 u_uncond, one pass of n. Needs prepare_classes first (sample()
  // does it). The model evaluation is recorded once and replayed on a device backend (the time is set outside
  // the recording).
  void guided_velocity(Model& m, View<In, const T> x, T time, double gamma, View<In, T> out) {
    const int n = x.n;
    if (gamma == 0 || gamma == 1) {
      auto t = t_.resize(n);
      B::fill(t.data, n, time);
      const View<C, const T> c{c2_.view().data + (gamma == 0 ? std::ptrdiff_t(n) * C::size : 0), n};
      graph_.run({std::uintptr_t(n), key_of(x.data), key_of(&m), modes_key(m), std::bit_cast<std::uint32_t>(T(gamma))},
                 [&] { velocity_ = m.forward(x, View<Vec<1>, const T>(t), c).data; });
      B::copy(velocity_, out.data, x.numel());
      return;
    }
    auto x2 = x2_.resize(2 * n);
    auto t2 = t_.resize(2 * n);
    B::fill(t2.data, 2 * n, time);
    const T g = T(gamma);
    auto guided = guided_.resize(n);
    graph_.run({std::uintptr_t(n), key_of(x.data), key_of(&m), modes_key(m), std::bit_cast<std::uint32_t>(g)}, [&] {
      B::copy(x.data, x2.data, x.numel());
      B::copy(x.data, x2.data + x.numel(), x.numel());
      auto u = m.forward(View<In, const T>(x2), View<Vec<1>, const T>(t2), View<C, const T>(c2_.view()));
      B::copy(u.data + x.numel(), guided.data, x.numel());    // u_uncond
      B::blend(guided.data, u.data, x.numel(), T(1) - g, g);  // (1 - gamma) u_uncond + gamma u_cond
    });
    B::copy(guided.data, out.data, x.numel());  // outside the recording: out may differ from call to call
  }

  // The classes of the batch of 2n: one-hot rows for the conditional half, zeros for the unconditional half.
  void prepare_classes(const std::vector<int>& labels) {
    const int n = int(labels.size());
    auto c = c2_.resize(2 * n);
    staging_.assign(std::size_t(c.numel()), T(0));
    for (int s = 0; s < n; ++s)
      if (labels[std::size_t(s)] >= 0)
        staging_[std::size_t(s) * Model::classes + std::size_t(labels[std::size_t(s)])] = T(1);
    B::from_host(staging_.data(), c.data, c.numel());
  }
  const typename B::Graph& graph() const { return graph_; }  // its statistics, on a recording backend

 private:
  static void check_request(int n, int steps) {
    if (n < 1) throw Error("FlowSampler::sample: asked for " + std::to_string(n) + " samples; ask for at least one.");
    if (steps < 1) throw Error("FlowSampler::sample: " + std::to_string(steps) + " solver steps; give at least one.");
  }

  Tensor<In, B> x_, x2_, guided_;
  OdeWorkspace<In, B> ode_;
  const T* velocity_ = nullptr;  // the model's output buffer, as the recorded evaluation left it
  Tensor<Vec<1>, B> t_;
  Tensor<C, B> c2_;
  std::vector<T> staging_;
  typename B::Graph graph_;
};

}  // namespace unetflow
