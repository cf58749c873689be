#pragma once
// Mean squared error over every element (F.mse_loss, reduction='mean'); writes dL/dpred when grad is given.
//   MseLoss<B>   keeps the loss in the backend's memory, so a recorded step can compute it without waiting for
//                the device; value() reads it (and waits).
//   mse_loss<B>  the same, read at once.
#include <memory>
#include <string>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../error.hpp"

namespace unetflow {

template <class B>
class MseLoss {
  static_assert(check_backend<B>());

 public:
  template <class S, class T, class U>
  void operator()(View<S, T> pred, View<S, U> target, View<S, typename B::scalar> grad = {}) {
    if (target.n != pred.n || (grad && grad.n != pred.n))
      throw Error("mse_loss: the prediction holds " + std::to_string(pred.n) + " samples, the target " +
                  std::to_string(target.n) + (grad ? " and the gradient " + std::to_string(grad.n) : std::string()) +
                  "; they must hold the same number.");
    B::mse(pred.rows(), target.rows(), grad.rows(), pred.n, S::size, value_.get());
  }
  double value() const { return B::read(value_.get()); }

 private:
  struct Free {
    void operator()(double* p) const { B::deallocate(p); }
  };
  std::unique_ptr<double, Free> value_{B::template allocate<double>(1)};
};

template <class B, class S, class T, class U>
double mse_loss(View<S, T> pred, View<S, U> target, View<S, typename B::scalar> grad = {}) {
  MseLoss<B> loss;
  loss(pred, target, grad);
  return loss.value();
}

}  // namespace unetflow
