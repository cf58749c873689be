#pragma once
// Per-element formulas of the element-wise losses, for host and device code alike (the CPU room and the CUDA
// kernels compute the same values from them). As PyTorch, d = pred - target:
//   l1               |d|                                         gradient sign(d) (0 at 0)
//   smooth_l1 (beta) |d| < beta ? d^2 / (2 beta) : |d| - beta/2  gradient d / beta or sign(d)   (beta 0: l1)
//   bce_with_logits  z - z t + log(1 + e^-z), stably             gradient sigmoid(z) - t
//   bce              -(t log p + (1 - t) log(1 - p)), logs >= -100   gradient (p - t) / max(p (1 - p), 1e-12)
#include <cmath>

#include "activation_math.hpp"
#include "common.hpp"

namespace unetflow::loss_math {

struct Value {
  double loss, grad;
};

UNETFLOW_HOST_DEVICE inline Value element(ElementLoss kind, double pred, double target, double beta) {
  using std::exp, std::fabs, std::fmax, std::log;
  const double d = pred - target, sign = d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0);
  switch (kind) {
    case ElementLoss::l1:
      return {fabs(d), sign};
    case ElementLoss::smooth_l1:
      if (fabs(d) < beta) return {0.5 * d * d / beta, d / beta};
      return {fabs(d) - 0.5 * beta, sign};
    case ElementLoss::bce_with_logits: {
      const double z = pred, m = fmax(-z, 0.0);
      return {(1 - target) * z + m + log(exp(-m) + exp(-z - m)), 1.0 / (1.0 + exp(-z)) - target};
    }
    default: {  // bce
      const double p = pred, lp = fmax(log(p), -100.0), lq = fmax(log(1 - p), -100.0);
      return {-(target * lp + (1 - target) * lq), (p - target) / fmax(p * (1 - p), 1e-12)};
    }
  }
}

}  // namespace unetflow::loss_math
