#pragma once
// Mean squared error over every element (F.mse_loss, reduction='mean'); writes dL/dpred when grad is given.
#include "../backend/cpu.hpp"

namespace unetflow {

template <class B, class S, class T, class U>
double mse_loss(View<S, T> pred, View<S, U> target, View<S, typename B::scalar> grad = {}) {
  return B::mse(pred.rows(), target.rows(), grad.rows(), pred.n, S::size);
}

}  // namespace unetflow
