#pragma once
// The CPU policy's optimiser room: Adam's update and weight blending (EMA).
#include <cmath>
#include <cstddef>

namespace unetflow::cpu_impl {

template <class T>
struct Optimiser {
  // y = a * y + b * x (weight averaging).
  static void blend(T* y, const T* x, std::ptrdiff_t len, T a, T b);
  // Adam step with bias correction, PyTorch's formulation (eps added after the square root).
  static void adam_update(T* p, const T* g, T* m, T* v, std::ptrdiff_t len, double lr, double beta1, double beta2,
                          double eps, double weight_decay, long step);
};

template <class T>
void Optimiser<T>::blend(T* y, const T* x, std::ptrdiff_t len, T a, T b) {
#pragma omp parallel for schedule(static) if (len > 65536)
  for (std::ptrdiff_t i = 0; i < len; ++i) y[i] = a * y[i] + b * x[i];
}

template <class T>
void Optimiser<T>::adam_update(T* p, const T* g, T* m, T* v, std::ptrdiff_t len, double lr, double beta1, double beta2,
                               double eps, double weight_decay, long step) {
  const double bc1 = 1.0 - std::pow(beta1, double(step)), bc2 = 1.0 - std::pow(beta2, double(step));
  const T step_size = T(lr / bc1), sqrt_bc2 = T(std::sqrt(bc2));
  const T b1 = T(beta1), b2 = T(beta2), e = T(eps), wd = T(weight_decay);
#pragma omp parallel for schedule(static) if (len > 65536)
  for (std::ptrdiff_t i = 0; i < len; ++i) {
    const T gi = wd != T(0) ? g[i] + wd * p[i] : g[i];
    m[i] = b1 * m[i] + (T(1) - b1) * gi;
    v[i] = b2 * v[i] + (T(1) - b2) * gi * gi;
    p[i] -= step_size * m[i] / (std::sqrt(v[i]) / sqrt_bc2 + e);
  }
}

}  // namespace unetflow::cpu_impl
