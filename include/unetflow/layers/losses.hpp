#pragma once
// The losses beside mse_loss (mse_loss.hpp) and cross_entropy (cross_entropy.hpp), as torch.nn.functional's, each
// with reduction mean (over every element) or sum, returning the loss and writing dL/dinput when grad is given:
//   nll_loss(log_probs, labels)          of a LogSoftmax's output: -log_probs[label], per sample
//   l1_loss, smooth_l1_loss(beta = 1)    |d|, and its quadratic-near-zero form
//   bce_with_logits(logits, targets)     binary cross-entropy of sigmoid(logits), computed stably
//   bce(probabilities, targets)          binary cross-entropy of probabilities in [0, 1] (logs clamped at -100)
// A mismatched batch or a label that is not a class is refused with one sentence naming the loss.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../error.hpp"
#include "../tensor.hpp"
#include "../transfer.hpp"

namespace unetflow {

enum class Reduction { mean, sum };

namespace detail {
inline void check_labels(const char* loss, std::span<const std::uint8_t> labels, int n, int classes) {
  if (std::ptrdiff_t(labels.size()) != n)
    throw Error(std::string(loss) + ": the batch holds " + std::to_string(n) + " samples but " +
                std::to_string(labels.size()) + " labels.");
  for (std::size_t s = 0; s < labels.size(); ++s)
    if (labels[s] >= classes)
      throw Error(std::string(loss) + ": label " + std::to_string(int(labels[s])) + " of sample " + std::to_string(s) +
                  " is not one of the " + std::to_string(classes) + " classes.");
}
template <class S, class T, class U, class G>
void check_batch(const char* loss, View<S, T> pred, View<S, U> target, View<S, G> grad) {
  if (target.n != pred.n || (grad && grad.n != pred.n))
    throw Error(std::string(loss) + ": the prediction holds " + std::to_string(pred.n) + " samples, the target " +
                std::to_string(target.n) + (grad ? " and the gradient " + std::to_string(grad.n) : std::string()) +
                "; they must hold the same number.");
}
}  // namespace detail

// Negative log-likelihood of class log-probabilities (F.nll_loss). Computed on the host (n x K values).
template <class B, int K, class T>
double nll_loss(View<Vec<K>, T> log_probs, std::span<const std::uint8_t> labels,
                View<Vec<K>, typename B::scalar> grad = {}, Reduction reduction = Reduction::mean) {
  using S = typename B::scalar;
  const int n = log_probs.n;
  detail::check_labels("nll_loss", labels, n, K);
  if (grad && grad.n != n)
    throw Error("nll_loss: the gradient holds " + std::to_string(grad.n) + " samples but the input " +
                std::to_string(n) + ".");
  const auto lp = download<B>(log_probs);
  const double scale = reduction == Reduction::mean ? 1.0 / n : 1.0;
  double total = 0;
  for (int s = 0; s < n; ++s) total -= double(lp[std::size_t(s) * K + labels[s]]);
  if (grad) {
    std::vector<S> g(lp.size(), S(0));
    for (int s = 0; s < n; ++s) g[std::size_t(s) * K + labels[s]] = S(-scale);
    upload<B>(g.data(), grad);
  }
  return total * scale;
}

// The element-wise losses through the backend's elementwise_loss (the loss stays in backend memory until value()).
template <class B>
class ElementwiseLoss {
  static_assert(check_backend<B>());

 public:
  ElementwiseLoss(ElementLoss kind, Reduction reduction = Reduction::mean, double beta = 1.0)
      : kind_(kind), reduction_(reduction), beta_(beta) {
    if (kind == ElementLoss::smooth_l1 && !(beta >= 0)) throw Error("smooth_l1_loss: beta must be at least 0.");
  }
  template <class S, class T, class U>
  void operator()(View<S, T> pred, View<S, U> target, View<S, typename B::scalar> grad = {}) {
    detail::check_batch(name(), pred, target, grad);
    // beta 0 is L1 (PyTorch's rule), not a division by zero.
    const ElementLoss kind = kind_ == ElementLoss::smooth_l1 && beta_ == 0 ? ElementLoss::l1 : kind_;
    const double scale = reduction_ == Reduction::mean ? 1.0 / (double(pred.n) * S::size) : 1.0;
    B::elementwise_loss(kind, pred.rows(), target.rows(), grad.rows(), pred.n, S::size, beta_, scale, value_.get());
  }
  double value() const { return B::read(value_.get()); }

 private:
  const char* name() const {
    switch (kind_) {
      case ElementLoss::l1:
        return "l1_loss";
      case ElementLoss::smooth_l1:
        return "smooth_l1_loss";
      case ElementLoss::bce_with_logits:
        return "bce_with_logits";
      default:
        return "bce";
    }
  }
  struct Free {
    void operator()(double* p) const { B::deallocate(p); }
  };
  ElementLoss kind_;
  Reduction reduction_;
  double beta_;
  std::unique_ptr<double, Free> value_{B::template allocate<double>(1)};
};

namespace detail {
template <class B, class S, class T, class U>
double elementwise_loss(ElementLoss kind, View<S, T> pred, View<S, U> target, View<S, typename B::scalar> grad,
                        Reduction reduction, double beta = 1.0) {
  ElementwiseLoss<B> loss(kind, reduction, beta);
  loss(pred, target, grad);
  return loss.value();
}
}  // namespace detail

template <class B, class S, class T, class U>
double l1_loss(View<S, T> pred, View<S, U> target, View<S, typename B::scalar> grad = {},
               Reduction reduction = Reduction::mean) {
  return detail::elementwise_loss<B>(ElementLoss::l1, pred, target, grad, reduction);
}
template <class B, class S, class T, class U>
double smooth_l1_loss(View<S, T> pred, View<S, U> target, View<S, typename B::scalar> grad = {},
                      Reduction reduction = Reduction::mean, double beta = 1.0) {
  return detail::elementwise_loss<B>(ElementLoss::smooth_l1, pred, target, grad, reduction, beta);
}
template <class B, class S, class T, class U>
double bce_with_logits(View<S, T> logits, View<S, U> target, View<S, typename B::scalar> grad = {},
                       Reduction reduction = Reduction::mean) {
  return detail::elementwise_loss<B>(ElementLoss::bce_with_logits, logits, target, grad, reduction);
}
template <class B, class S, class T, class U>
double bce(View<S, T> probabilities, View<S, U> target, View<S, typename B::scalar> grad = {},
           Reduction reduction = Reduction::mean) {
  return detail::elementwise_loss<B>(ElementLoss::bce, probabilities, target, grad, reduction);
}

}  // namespace unetflow
