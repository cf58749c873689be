#pragma once
// Part 2's training task, flow matching (docs/models.md, "Algorithms"):
//   B.1  x1 data, x0 ~ N(0, I), t ~ U[0, 1], xt = (1 - t) x0 + t x1, loss ||(x1 - x0) - u(xt, t)||^2
//   B.3  class-conditioned: c = one-hot(label), replaced by zeros with probability p_uncond
// FlowMatchingLoss takes the noise as arguments (tests compare it with PyTorch on fixed inputs); the task draws it.
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

// The training task for Trainer: draws x0, t and (class-conditioned) the dropped-out one-hot c on the host.
template <class Model>
class FlowMatchingTask {
 public:
  double p_uncond = 0.1;  // the probability of a batch row without its class (B.3)

  using In = typename Model::In;
  using B = typename Model::backend;
  using T = typename B::scalar;

  explicit FlowMatchingTask(double p_uncond_ = 0.1) : p_uncond(p_uncond_) {}

  // shard: x1 and labels are rows of a larger batch (data-parallel training): the random numbers are drawn for
  // the whole batch, so the rows get what one process training on the whole batch would give them.
  double step(Model& m, View<In, const T> x1, const std::uint8_t* labels, Rng& rng, Shard shard = {}) {
    const int n = x1.n;
    auto x0 = x0_.resize(n);
    auto t = t_.resize(n);
    draw_normal_rows<B>(rng, x0.data, n, In::size, shard, staging_);
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
    return loss_(m, x1, View<In, const T>(x0), View<Vec<1>, const T>(t), View<typename Model::ClassIn, const T>(c));
  }
  const typename B::Graph& graph() const { return loss_.graph(); }

 private:
  FlowMatchingLoss<Model> loss_;
  Tensor<In, B> x0_;
  Tensor<Vec<1>, B> t_;
  Tensor<typename Model::ClassIn, B> c_;
  std::vector<T> staging_;
};

}  // namespace unetflow
