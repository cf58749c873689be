#pragma once
// Part 1's training task: the single-step denoiser's objective ||D(z) - x||^2 with z = x + sigma * eps, eps ~ N(0, I)
// drawn per batch. With pure_noise the input carries no information about x (z = eps): the MSE-optimal output is
// then the mean training image.
#include <bit>
#include <cstdint>
#include <vector>

#include "../../backend/recorded_step.hpp"
#include "../../layers/mse_loss.hpp"
#include "../../transfer.hpp"

namespace unetflow {

template <class Model>
class DenoiseTask {
 public:
  double sigma = 0.5;
  bool pure_noise = false;

  using In = typename Model::In;
  using B = typename Model::backend;
  using T = typename B::scalar;

  DenoiseTask(double sigma_, bool pure_noise_) : sigma(sigma_), pure_noise(pure_noise_) {}

  // One objective evaluation on a clean batch: forward, loss, backward (parameter gradients accumulate).
  // The noise is drawn on the host; the rest is one recorded step (replayed on a device backend).
  // shard: x is rows of a larger batch (data-parallel training; see FlowMatchingTask::step).
  double step(Model& model, View<In, const T> x, const std::uint8_t* /*labels*/, Rng& rng, Shard shard = {}) {
    const int n = x.n;
    auto z = input_.resize(n);
    auto g = grad_.resize(n);
    draw_normal_rows<B>(rng, z.data, n, In::size, shard, staging_);
    run_training_step(
        graph_, model,
        [&] {
          if (!pure_noise) B::blend(z.data, x.data, z.numel(), T(sigma), T(1));  // z = x + sigma * eps
          auto y = model.forward(View<In, const T>(z));
          loss_(y, x, g);
          model.backward(g);
        },
        n, key_of(x.data), std::bit_cast<std::uintptr_t>(sigma), pure_noise);
    return loss_.value();
  }
  const typename B::Graph& graph() const { return graph_; }  // its statistics, on a recording backend

 private:
  Tensor<In, B> input_, grad_;
  std::vector<T> staging_;
  MseLoss<B> loss_;
  typename B::Graph graph_;
};

}  // namespace unetflow
