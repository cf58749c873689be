#pragma once
// Flow-matching training of a class-conditioned model of 3-channel images on a task it can learn in a few steps:
// each image is one flat colour per class (channel k lit for the classes with bit k set).
#include <cstdint>
#include <utility>
#include <vector>

#include <unetflow/unetflow.hpp>

namespace test_util {

// Trains m (already initialised) for `steps` Adam steps of batch 16; returns the mean loss of the first three steps
// and of the last three (the loss has a floor well above 0: x1 - x0 is not predictable from xt alone).
template <class Net>
std::pair<double, double> train_on_flat_colours(Net& m, unetflow::Rng& rng, int steps = 30) {
  using namespace unetflow;
  constexpr int plane = Net::In::H * Net::In::W;
  Adam<cpu> adam(m, {.lr = 1e-2});
  FlowMatchingTask<Net> task;
  Tensor<typename Net::In, cpu> x(16);
  std::vector<std::uint8_t> labels(16);
  double first = 0, last = 0;
  for (int step = 0; step < steps; ++step) {
    for (int s = 0; s < 16; ++s) {
      labels[std::size_t(s)] = std::uint8_t(rng.below(8));
      for (int k = 0; k < 3; ++k)
        cpu::fill(x.view().sample(s) + k * plane, plane, (labels[std::size_t(s)] >> k & 1) ? 0.9f : 0.1f);
    }
    adam.zero_grad();
    const double loss = task.step(m, x.view(), labels.data(), rng);
    adam.step();
    if (step < 3) first += loss / 3;
    if (step >= steps - 3) last += loss / 3;
  }
  return {first, last};
}

}  // namespace test_util
