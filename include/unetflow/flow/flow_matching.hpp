#pragma once
// Part 2 of the assignment: flow matching (SPEC section 4).
//   B.1  training: x1 data, x0 ~ N(0, I), t ~ U[0, 1], xt = (1 - t) x0 + t x1, loss ||(x1 - x0) - u(xt, t)||^2
//   B.3  class-conditioned: c = one-hot(label), replaced by zeros with probability p_uncond
//   B.2  sampling: x ~ N(0, I); for i = 0 .. T-1, t = i / T: x <- x + u(x, t) / T
//   B.4  classifier-free guidance: u = u_uncond + gamma (u_cond - u_uncond), both passes as one batch of 2n
// The deterministic parts (flow_matching_loss, guided_velocity, euler) take their noise as arguments, so that
// tests can compare them with PyTorch on fixed inputs; the task and the sampler draw it.
#include <vector>

#include "../layers/mse_loss.hpp"
#include "../layers/param.hpp"
#include "../random.hpp"
#include "../tensor.hpp"

namespace unetflow {

// xt = (1 - t) x0 + t x1 and target = x1 - x0, per sample t.
template <class S, class T>
void interpolate(View<S, const T> x0, View<S, const T> x1, View<Vec<1>, const T> t, View<S, T> xt, View<S, T> target) {
  for (int s = 0; s < x0.n; ++s) {
    const T ts = t.sample(s)[0];
    for (std::ptrdiff_t i = 0; i < S::size; ++i) {
      xt.sample(s)[i] = (T(1) - ts) * x0.sample(s)[i] + ts * x1.sample(s)[i];
      target.sample(s)[i] = x1.sample(s)[i] - x0.sample(s)[i];
    }
  }
}

// The model's velocity at (x, t[, c]) for a time- or class-and-time-conditioned UNet.
template <class Model>
View<typename Model::In, typename Model::T> velocity(Model& m, View<typename Model::In, const typename Model::T> x,
                                                      View<Vec<1>, const typename Model::T> t,
                                                      View<typename Model::ClassIn, const typename Model::T> c) {
  if constexpr (Model::classes > 0) return m.forward(x, t, c);
  else return m.forward(x, t);
}

// One flow-matching objective evaluation (B.1 / B.3) with the noise given: forward, loss, backward.
template <class Model>
class FlowMatchingLoss {
 public:
  using In = typename Model::In;
  using B = typename Model::backend;
  using T = typename B::scalar;

  double operator()(Model& m, View<In, const T> x1, View<In, const T> x0, View<Vec<1>, const T> t,
                    View<typename Model::ClassIn, const T> c = {}) {
    const int n = x1.n;
    auto xt = xt_.resize(n), target = target_.resize(n), grad = grad_.resize(n);
    interpolate<In, T>(x0, x1, t, xt, target);
    auto y = velocity(m, View<In, const T>(xt), t, c);
    const double loss = mse_loss<B>(y, View<In, const T>(target), grad);
    m.backward(grad);
    return loss;
  }

 private:
  Tensor<In, B> xt_, target_, grad_;
};

// The training task for Trainer: draws x0, t and (class-conditioned) the dropped-out one-hot c.
template <class Model>
class FlowMatchingTask {
 public:
  using In = typename Model::In;
  using B = typename Model::backend;
  using T = typename B::scalar;
  double p_uncond = 0.1;

  explicit FlowMatchingTask(double p_uncond_ = 0.1) : p_uncond(p_uncond_) {}

  double step(Model& m, View<In, const T> x1, const std::uint8_t* labels, Rng& rng) {
    const int n = x1.n;
    auto x0 = x0_.resize(n);
    auto t = t_.resize(n);
    rng.fill_normal(x0.data, x0.numel());
    rng.fill_uniform(t.data, n);
    auto c = c_.resize(n);
    if constexpr (Model::classes > 0) {
      B::fill(c.data, c.numel(), T(0));
      for (int s = 0; s < n; ++s)
        if (!rng.bernoulli(p_uncond)) c.sample(s)[labels[s]] = T(1);
    }
    return loss_(m, x1, View<In, const T>(x0), View<Vec<1>, const T>(t), View<typename Model::ClassIn, const T>(c));
  }

 private:
  FlowMatchingLoss<Model> loss_;
  Tensor<In, B> x0_;
  Tensor<Vec<1>, B> t_;
  Tensor<typename Model::ClassIn, B> c_;
};

// Euler integration of dx/dt = u(x, t) from t = 0 to 1 in T steps: x <- x + u(x, i / T) / T.
// u(x, t, out) writes the velocity of every sample; x is updated in place.
template <class S, class T, class Field>
void euler(View<S, T> x, int steps, Field&& u, View<S, T> velocity_buffer) {
  for (int i = 0; i < steps; ++i) {
    const double t = double(i) / steps;
    u(View<S, const T>(x), t, velocity_buffer);
    for (int s = 0; s < x.n; ++s)
      for (std::ptrdiff_t k = 0; k < S::size; ++k) x.sample(s)[k] += velocity_buffer.sample(s)[k] / T(steps);
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

  // B.2: n samples from noise drawn from rng, T Euler steps. Without classes.
  View<In, T> sample(Model& m, int n, int steps, Rng& rng) requires(Model::classes == 0) {
    set_training(m, false);
    auto x = x_.resize(n);
    rng.fill_normal(x.data, x.numel());
    auto t = t_.resize(n);
    euler<In, T>(x, steps, [&](View<In, const T> xs, double time, View<In, T> out) {
      B::fill(t.data, n, T(time));
      auto u = m.forward(xs, View<Vec<1>, const T>(t));
      B::copy(u.data, out.data, u.numel());
    }, u_.resize(n));
    return x;
  }

  // B.4: one sample per entry of `labels` (0-9, or -1 for "no class") with guidance gamma.
  View<In, T> sample(Model& m, const std::vector<int>& labels, double gamma, int steps, Rng& rng)
    requires(Model::classes > 0) {
    set_training(m, false);
    const int n = int(labels.size());
    auto x = x_.resize(n);
    rng.fill_normal(x.data, x.numel());
    prepare_classes(labels);
    euler<In, T>(x, steps, [&](View<In, const T> xs, double time, View<In, T> out) {
      guided_velocity(m, xs, T(time), gamma, out);
    }, u_.resize(n));
    return x;
  }

  // u = u_uncond + gamma (u_cond - u_uncond) at time t, the two passes as one batch of 2n: [x; x] with
  // classes [c; 0]. Needs prepare_classes first (sample() does it).
  void guided_velocity(Model& m, View<In, const T> x, T time, double gamma, View<In, T> out) {
    const int n = x.n;
    auto x2 = x2_.resize(2 * n);
    auto t2 = t_.resize(2 * n);
    B::copy(x.data, x2.data, x.numel());
    B::copy(x.data, x2.data + x.numel(), x.numel());
    B::fill(t2.data, 2 * n, time);
    auto u = m.forward(View<In, const T>(x2), View<Vec<1>, const T>(t2), View<C, const T>(c2_.view()));
    const T g = T(gamma);
    for (std::ptrdiff_t k = 0; k < x.numel(); ++k) {
      const T uc = u.data[k], uu = u.data[k + x.numel()];
      out.data[k] = uu + g * (uc - uu);
    }
  }

  // The classes of the batch of 2n: one-hot rows for the conditional half, zeros for the unconditional half.
  void prepare_classes(const std::vector<int>& labels) {
    const int n = int(labels.size());
    auto c = c2_.resize(2 * n);
    B::fill(c.data, c.numel(), T(0));
    for (int s = 0; s < n; ++s)
      if (labels[std::size_t(s)] >= 0) c.sample(s)[labels[std::size_t(s)]] = T(1);
  }

 private:
  Tensor<In, B> x_, u_, x2_;
  Tensor<Vec<1>, B> t_;
  Tensor<C, B> c2_;
};

}  // namespace unetflow
