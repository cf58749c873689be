#pragma once
// Part 1 of the assignment: the noising process z = x + sigma * eps (eps ~ N(0, I), drawn per batch) and the
// single-step denoiser's training objective ||D(z) - x||^2. With pure_noise the input carries no information
// about x (z = eps): the MSE-optimal output is then the mean training image.
#include <bit>
#include <cstdint>
#include <vector>

#include "../layers/mse_loss.hpp"
#include "../random.hpp"
#include "../tensor.hpp"
#include "../transfer.hpp"

namespace unetflow {

// out = x + sigma * eps, eps drawn from rng (x and out may alias); host memory (figures, evaluation sets).
template <class S, class T, class U>
void add_noise(View<S, U> x, double sigma, Rng& rng, View<S, T> out) {
  for (int s = 0; s < x.n; ++s)
    for (std::ptrdiff_t i = 0; i < S::size; ++i) out.sample(s)[i] = T(x.sample(s)[i] + sigma * rng.normal());
}

template <class Model>
class DenoiseTask {
 public:
  using In = typename Model::In;
  using B = typename Model::backend;
  using T = typename B::scalar;

  double sigma = 0.5;
  bool pure_noise = false;

  DenoiseTask(double sigma_, bool pure_noise_) : sigma(sigma_), pure_noise(pure_noise_) {}

  // One objective evaluation on a clean batch: forward, loss, backward (parameter gradients accumulate).
  // The noise is drawn on the host; the rest is one recorded step (replayed on a device backend).
  // shard: x is rows of a larger batch (data-parallel training; see FlowMatchingTask::step).
  double step(Model& model, View<In, const T> x, const std::uint8_t* /*labels*/, Rng& rng, Shard shard = {}) {
    const int n = x.n;
    auto z = input_.resize(n);
    auto g = grad_.resize(n);
    draw_normal_rows<B>(rng, z.data, n, In::size, shard, staging_);
    const StepKey key{std::uintptr_t(n), key_of(x.data), std::bit_cast<std::uintptr_t>(sigma), std::uintptr_t(pure_noise),
                      key_of(&model), modes_key(model)};
    const int ran = graph_.run(key, [&] {
      if (!pure_noise) B::blend(z.data, x.data, z.numel(), T(sigma), T(1));  // z = x + sigma * eps
      auto y = model.forward(View<In, const T>(z));
      loss_(y, x, g);
      model.backward(g);
    }, [&] { return batch_counters_snapshot(model); });
    if (ran == 0) count_replayed_batch(model);
    return loss_.value();
  }

 private:
  Tensor<In, B> input_, grad_;
  std::vector<T> staging_;
  MseLoss<B> loss_;
  typename B::Graph graph_;
};

}  // namespace unetflow
