#pragma once
// Softmax cross-entropy over class logits with integer labels (F.cross_entropy, reduction='mean');
// writes dL/dlogits = (softmax - one_hot) / n when grad is given. Computed on the host (n x K values).
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../tensor.hpp"
#include "../transfer.hpp"

namespace unetflow {

template <class B, int K, class T>
double cross_entropy(View<Vec<K>, T> logits, const std::uint8_t* labels, View<Vec<K>, typename B::scalar> grad = {}) {
  using S = typename B::scalar;
  if (grad && grad.n != logits.n)
    throw Error("cross_entropy: the gradient holds " + std::to_string(grad.n) + " samples but the logits " +
                std::to_string(logits.n) + ".");
  for (int s = 0; s < logits.n; ++s)
    if (labels[s] >= K)
      throw Error("cross_entropy: label " + std::to_string(int(labels[s])) + " of sample " + std::to_string(s) +
                  " is not one of the " + std::to_string(K) + " classes.");
  const auto z_all = download<B>(logits);
  std::vector<S> g(grad.data ? z_all.size() : 0);
  double total = 0;
  const int n = logits.n;
  for (int s = 0; s < n; ++s) {
    const auto* z = z_all.data() + std::ptrdiff_t(s) * K;
    double mx = z[0];
    for (int k = 1; k < K; ++k) mx = std::max(mx, double(z[k]));
    double sum = 0;
    for (int k = 0; k < K; ++k) sum += std::exp(double(z[k]) - mx);
    const double log_sum = mx + std::log(sum);
    total += log_sum - double(z[labels[s]]);
    if (grad.data)
      for (int k = 0; k < K; ++k)
        g[std::size_t(s) * K + std::size_t(k)] =
            S((std::exp(double(z[k]) - log_sum) - (k == labels[s] ? 1.0 : 0.0)) / n);
  }
  if (grad.data) upload<B>(g.data(), grad);
  return total / n;
}

}  // namespace unetflow
