#pragma once
// Part 2's training task, flow matching (docs/models.md, "Algorithms"):
//   B.1  x1 data, x0 ~ N(0, I), t ~ U[0, 1], xt = (1 - t) x0 + t x1, loss ||(x1 - x0) - u(xt, t)||^2
//   B.3  class-conditioned: c = one-hot(label), replaced by zeros with probability p_uncond
// FlowMatchingTask::time_sampling may draw t logit-normal instead, t = sigmoid(m + s z), z ~ N(0, 1) (Esser et al.,
// "Scaling Rectified Flow Transformers", 2024): more of the training at the middle times, fewer at the ends.
// FlowMatchingLoss takes the noise as arguments (tests compare it with PyTorch on fixed inputs); the task draws it.
#include <cmath>
#include <cstdint>
#include <vector>

#include "../../backend/recorded_step.hpp"
#include "../../flow/flow_matching.hpp"
#include "../../layers/mse_loss.hpp"
#include "../../transfer.hpp"

namespace unetflow {

// One flow-matching objective evaluation (B.1 / B.3) with the noise given: forward, loss, backward (recorded
// once and replayed on a device backend); returns the loss.
template <class Model>
class FlowMatchingLoss {
 public:
  using T = typename Model::backend::scalar;
  using In = typename Model::In;
  using B = typename Model::backend;

  double operator()(Model& m, View<In, const T> x1, View<In, const T> x0, View<Vec<1>, const T> t,
                    View<typename Model::ClassIn, const T> c = {}) {
    const int n = x1.n;
    auto xt = xt_.resize(n), target = target_.resize(n), grad = grad_.resize(n);
    run_training_step(
        graph_, m,
        [&] {
          B::interpolate(x0.rows(), x1.rows(), t.data, xt.rows(), target.rows(), n, In::size);
          auto y = velocity(m, View<In, const T>(xt), t, c);
          loss_(y, View<In, const T>(target), grad);
          m.backward(grad);
        },
        n, key_of(x1.data), key_of(x0.data), key_of(t.data), key_of(c.data));
    return loss_.value();
  }
  const typename B::Graph& graph() const { return graph_; }  // its statistics, on a recording backend

 private:
  Tensor<In, B> xt_, target_, grad_;
  MseLoss<B> loss_;
  typename B::Graph graph_;
};

// How FlowMatchingTask draws the training times.
struct TimeSampling {
  bool logit_normal = false;  // false: t ~ U[0, 1] (B.1)
  double mean = 0, std = 1;   // of the logit
};

// The training task for Trainer: draws x0, t and (class-conditioned) the dropped-out one-hot c on the host.
template <class Model>
class FlowMatchingTask {
 public:
  double p_uncond = 0.1;  // the probability of a batch row without its class (B.3)
  TimeSampling time_sampling;

  using In = typename Model::In;
  using B = typename Model::backend;
  using T = typename B::scalar;

  explicit FlowMatchingTask(double p_uncond_ = 0.1) : p_uncond(p_uncond_) {}

  // shard: x1 and labels are rows of a larger batch (data-parallel training): the random numbers are drawn for
  // the whole batch, so the rows get what one process training on the whole batch would give them.
  double step(Model& m, View<In, const T> x1, const std::uint8_t* labels, Rng& rng, Shard shard = {}) {
    draw(x1.n, labels, rng, shard);
    return loss_(m, x1, View<In, const T>(x0_.view()), View<Vec<1>, const T>(t_.view()),
                 View<typename Model::ClassIn, const T>(c_.view()));
  }
  // The model's forward at a point drawn as step draws it, in whatever mode the model is, without loss or
  // backward: the passes recompute_batch_norm_statistics runs.
  void forward(Model& m, View<In, const T> x1, const std::uint8_t* labels, Rng& rng) {
    const int n = x1.n;
    draw(n, labels, rng, {});
    auto xt = xt_.resize(n), target = target_.resize(n);
    B::interpolate(x0_.view().rows(), x1.rows(), t_.data(), xt.rows(), target.rows(), n, In::size);
    velocity(m, View<In, const T>(xt), View<Vec<1>, const T>(t_.view()),
             View<typename Model::ClassIn, const T>(c_.view()));
  }
  const typename B::Graph& graph() const { return loss_.graph(); }

 private:
  // x0 ~ N(0, I), t as time_sampling says and (class-conditioned) the one-hot classes with dropout, for n rows.
  void draw(int n, const std::uint8_t* labels, Rng& rng, Shard shard) {
    auto x0 = x0_.resize(n);
    auto t = t_.resize(n);
    draw_normal_rows<B>(rng, x0.data, n, In::size, shard, staging_);
    if (time_sampling.logit_normal)
      draw_rows<B>(t.data, n, 1, shard, staging_, [&](T* p, std::ptrdiff_t k) {
        rng.fill_normal(p, k, time_sampling.mean, time_sampling.std);
        for (std::ptrdiff_t i = 0; i < k; ++i) p[i] = T(1 / (1 + std::exp(-double(p[i]))));
      });
    else
      draw_uniform_rows<B>(rng, t.data, n, 1, shard, staging_);
    auto c = c_.resize(n);
    if constexpr (Model::classes > 0) {
      staging_.assign(std::size_t(c.numel()), T(0));
      for (int s = -shard.offset; s < shard.total_or(n) - shard.offset; ++s) {
        const bool dropped = rng.bernoulli(p_uncond);
        if (s >= 0 && s < n && !dropped) staging_[std::size_t(s) * Model::classes + labels[s]] = T(1);
      }
      B::from_host(staging_.data(), c.data, c.numel());
    }
  }

  FlowMatchingLoss<Model> loss_;
  Tensor<In, B> x0_, xt_, target_;
  Tensor<Vec<1>, B> t_;
  Tensor<typename Model::ClassIn, B> c_;
  std::vector<T> staging_;
};

}  // namespace unetflow
