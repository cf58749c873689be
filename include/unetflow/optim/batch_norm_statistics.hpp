#pragma once
// recompute_batch_norm_statistics(model, batches, forward): PyTorch's torch.optim.swa_utils.update_bn. Every
// BatchNorm2d's running mean and variance become the plain average of the batch statistics of `batches`
// training-mode forward passes (forward(k) runs the k-th, k = 0 .. batches - 1); the modes come back as they were.
// Weights that were not trained as they are need it: an exponential moving average of the weights (optim/ema.hpp)
// sampled with the running statistics of the raw weights normalises activations by statistics of others.
#include <string>
#include <vector>

#include "../error.hpp"
#include "../layers/batchnorm2d.hpp"
#include "../param.hpp"

namespace unetflow {

template <class M, class Forward>
void recompute_batch_norm_statistics(M& model, int batches, Forward&& forward) {
  using B = typename M::backend;
  using T = typename B::scalar;
  if (batches < 1)
    throw Error("recompute_batch_norm_statistics: " + std::to_string(batches) + " batches; give at least one.");
  struct Statistic {
    Buffer<B>* buffer;
    std::vector<double> sum;
  };
  std::vector<Statistic> statistics;  // BatchNorm2d's running_mean and running_var, by their names
  model.visit("", [&](const std::string& name, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Buffer>)
      if (name.ends_with("running_mean") || name.ends_with("running_var"))
        statistics.push_back({&e, std::vector<double>(std::size_t(e.size), 0.0)});
  });
  if (statistics.empty()) return;
  // A training pass moves a running statistic r to (1 - momentum) r + momentum s for the batch's statistic s
  // (the unbiased variance for running_var): from r = 0 it leaves momentum s.
  constexpr double momentum = BatchNorm2d<1, B>::momentum;
  auto training = train_mode(model);
  for (int k = 0; k < batches; ++k) {
    for (auto& s : statistics) B::fill(s.buffer->data(), s.buffer->size, T(0));
    forward(k);
    for (auto& s : statistics) {
      const std::vector<T> r = s.buffer->to_host();
      for (std::size_t i = 0; i < r.size(); ++i) s.sum[i] += double(r[i]) / momentum;
    }
  }
  for (auto& s : statistics) {
    std::vector<T> mean(s.sum.size());
    for (std::size_t i = 0; i < mean.size(); ++i) mean[i] = T(s.sum[i] / batches);
    B::from_host(mean.data(), s.buffer->data(), s.buffer->size);
  }
}

}  // namespace unetflow
