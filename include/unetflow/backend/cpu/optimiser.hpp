#pragma once
// The CPU policy's optimiser room: the optimisers' updates (PyTorch's formulations), weight blending (EMA), and
// the squared norm that gradient clipping needs.
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
  // torch.optim.SGD: d = g + wd p; momentum: buf = first ? d : momentum buf + (1 - dampening) d, d = nesterov ?
  // d + momentum buf : buf; p -= lr d. buf may be null without momentum.
  static void sgd_update(T* p, const T* g, T* buf, std::ptrdiff_t len, double lr, double momentum, double dampening,
                         double weight_decay, bool nesterov, bool first);
  // torch.optim.RMSprop (grad_avg only when centered, buf only with momentum; either may be null otherwise).
  static void rmsprop_update(T* p, const T* g, T* square_avg, T* grad_avg, T* buf, std::ptrdiff_t len, double lr,
                             double alpha, double eps, double weight_decay, double momentum, bool centered);
  // torch.optim.Adadelta.
  static void adadelta_update(T* p, const T* g, T* square_avg, T* acc_delta, std::ptrdiff_t len, double lr, double rho,
                              double eps, double weight_decay);
  // *out (backend memory) (+)= sum of x^2, in double.
  static void sum_squares(const T* x, std::ptrdiff_t len, double* out, bool accumulate);
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
  // 1 - beta in double, then rounded, as PyTorch's Python scalars (1 - 0.999f is 1.3e-5 away from 0.001f).
  const T b1 = T(beta1), b2 = T(beta2), c1 = T(1 - beta1), c2 = T(1 - beta2), e = T(eps), wd = T(weight_decay);
#pragma omp parallel for schedule(static) if (len > 65536)
  for (std::ptrdiff_t i = 0; i < len; ++i) {
    const T gi = wd != T(0) ? g[i] + wd * p[i] : g[i];
    m[i] = b1 * m[i] + c1 * gi;
    v[i] = b2 * v[i] + c2 * gi * gi;
    p[i] -= step_size * m[i] / (std::sqrt(v[i]) / sqrt_bc2 + e);
  }
}

template <class T>
void Optimiser<T>::sgd_update(T* p, const T* g, T* buf, std::ptrdiff_t len, double lr, double momentum,
                              double dampening, double weight_decay, bool nesterov, bool first) {
  const T wd = T(weight_decay), mo = T(momentum), keep = T(1 - dampening), rate = T(lr);
#pragma omp parallel for schedule(static) if (len > 65536)
  for (std::ptrdiff_t i = 0; i < len; ++i) {
    T d = wd != T(0) ? g[i] + wd * p[i] : g[i];
    if (mo != T(0)) {
      buf[i] = first ? d : mo * buf[i] + keep * d;
      d = nesterov ? d + mo * buf[i] : buf[i];
    }
    p[i] -= rate * d;
  }
}

template <class T>
void Optimiser<T>::rmsprop_update(T* p, const T* g, T* square_avg, T* grad_avg, T* buf, std::ptrdiff_t len, double lr,
                                  double alpha, double eps, double weight_decay, double momentum, bool centered) {
  const T wd = T(weight_decay), a = T(alpha), ca = T(1 - alpha), e = T(eps), mo = T(momentum), rate = T(lr);
#pragma omp parallel for schedule(static) if (len > 65536)
  for (std::ptrdiff_t i = 0; i < len; ++i) {
    const T gi = wd != T(0) ? g[i] + wd * p[i] : g[i];
    square_avg[i] = a * square_avg[i] + ca * gi * gi;
    T avg;
    if (centered) {
      grad_avg[i] += ca * (gi - grad_avg[i]);
      avg = std::sqrt(square_avg[i] - grad_avg[i] * grad_avg[i]) + e;
    } else {
      avg = std::sqrt(square_avg[i]) + e;
    }
    if (mo > T(0)) {
      buf[i] = mo * buf[i] + gi / avg;
      p[i] -= rate * buf[i];
    } else {
      p[i] -= rate * gi / avg;
    }
  }
}

template <class T>
void Optimiser<T>::adadelta_update(T* p, const T* g, T* square_avg, T* acc_delta, std::ptrdiff_t len, double lr,
                                   double rho, double eps, double weight_decay) {
  const T wd = T(weight_decay), r = T(rho), cr = T(1 - rho), e = T(eps), rate = T(lr);
#pragma omp parallel for schedule(static) if (len > 65536)
  for (std::ptrdiff_t i = 0; i < len; ++i) {
    const T gi = wd != T(0) ? g[i] + wd * p[i] : g[i];
    square_avg[i] = r * square_avg[i] + cr * gi * gi;
    const T delta = std::sqrt(acc_delta[i] + e) / std::sqrt(square_avg[i] + e) * gi;
    acc_delta[i] = r * acc_delta[i] + cr * delta * delta;
    p[i] -= rate * delta;
  }
}

template <class T>
void Optimiser<T>::sum_squares(const T* x, std::ptrdiff_t len, double* out, bool accumulate) {
  double total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static) if (len > 65536)
  for (std::ptrdiff_t i = 0; i < len; ++i) total += double(x[i]) * double(x[i]);
  *out = accumulate ? *out + total : total;
}

}  // namespace unetflow::cpu_impl
