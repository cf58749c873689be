#pragma once
// Softmax cross-entropy over class logits with integer labels (F.cross_entropy), optionally with label smoothing e:
// each sample's target is (1 - e) one_hot + e / K, so the loss is (1 - e)(-log p_label) + e mean_k(-log p_k) and
// dL/dlogits = softmax - target, divided by n for reduction='mean'. Computed on the host (n x K values).
//   cross_entropy<B>(logits, labels, grad)                 labels: n values (a pointer, the batch's count)
//   cross_entropy<B>(logits, span labels, grad, options)   the span's size is checked against the batch
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../tensor.hpp"
#include "../transfer.hpp"
#include "losses.hpp"

namespace unetflow {

struct CrossEntropyOptions {
  double label_smoothing = 0;
  Reduction reduction = Reduction::mean;
};

template <class B, int K, class T>
double cross_entropy(View<Vec<K>, T> logits, std::span<const std::uint8_t> labels,
                     View<Vec<K>, typename B::scalar> grad = {}, CrossEntropyOptions options = {}) {
  using S = typename B::scalar;
  const int n = logits.n;
  detail::check_labels("cross_entropy", labels, n, K);
  if (grad && grad.n != n)
    throw Error("cross_entropy: the gradient holds " + std::to_string(grad.n) + " samples but the logits " +
                std::to_string(n) + ".");
  const double e = options.label_smoothing;
  if (!(e >= 0 && e <= 1))
    throw Error("cross_entropy: label_smoothing is " + std::to_string(e) + "; it must lie in [0, 1].");
  const double scale = options.reduction == Reduction::mean ? 1.0 / n : 1.0;
  const auto z_all = download<B>(logits);
  std::vector<S> g(grad.data ? z_all.size() : 0);
  double total = 0;
  for (int s = 0; s < n; ++s) {
    const auto* z = z_all.data() + std::ptrdiff_t(s) * K;
    double mx = z[0];
    for (int k = 1; k < K; ++k) mx = std::max(mx, double(z[k]));
    double sum = 0, sum_z = 0;
    for (int k = 0; k < K; ++k) {
      sum += std::exp(double(z[k]) - mx);
      sum_z += double(z[k]);
    }
    const double log_sum = mx + std::log(sum);
    total += (1 - e) * (log_sum - double(z[labels[s]])) + e * (log_sum - sum_z / K);
    if (grad.data)
      for (int k = 0; k < K; ++k)
        g[std::size_t(s) * K + std::size_t(k)] =
            S((std::exp(double(z[k]) - log_sum) - (k == labels[s] ? 1 - e : 0.0) - e / K) * scale);
  }
  if (grad.data) upload<B>(g.data(), grad);
  return total * scale;
}

template <class B, int K, class T>
double cross_entropy(View<Vec<K>, T> logits, const std::uint8_t* labels, View<Vec<K>, typename B::scalar> grad = {}) {
  return cross_entropy<B>(logits, std::span<const std::uint8_t>(labels, std::size_t(logits.n)), grad);
}

}  // namespace unetflow
