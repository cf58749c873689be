#pragma once
// The classifier's training task (models/classifier.hpp): cross-entropy on the labels.
#include <cstdint>

#include "../../distributed/comm.hpp"
#include "../../layers/cross_entropy.hpp"

namespace unetflow {

// The training objective for Trainer.
template <class Model>
class ClassificationTask {
 public:
  using B = typename Model::backend;
  using T = typename B::scalar;
  double step(Model& m, View<typename Model::In, const T> x, const std::uint8_t* labels, Rng&, Shard = {}) {
    auto logits = m.forward(x);
    auto g = grad_.resize(x.n);
    const double loss = cross_entropy<B>(logits, labels, g);
    m.backward(g);
    return loss;
  }

 private:
  Tensor<typename Model::Logits, B> grad_;
};

}  // namespace unetflow
