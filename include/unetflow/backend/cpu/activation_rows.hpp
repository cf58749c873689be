#pragma once
// Activations over one row of z = x * scale + shift (pointwise and BatchNorm use them): the formulas of
// activation_math.hpp, vectorised: plain loops for the piecewise-linear ones, Eigen's erf, exp, tanh and log1p for
// the others.
#include "eigen.hpp"
#include <cmath>
#include <cstddef>

#include "../common.hpp"

namespace unetflow::cpu_impl {

template <class T>
struct ActivationRows {
  using Row = Eigen::Array<T, Eigen::Dynamic, 1>;
  // out = act(z); out may be x.
  static void row(Activation act, const T* x, T* out, std::ptrdiff_t len, T scale = T(1), T shift = T(0));
  // g *= act'(z), in place.
  static void grad_row(Activation act, const T* x, T* g, std::ptrdiff_t len, T scale = T(1), T shift = T(0));
  static void gelu_row(const T* x, T* out, std::ptrdiff_t len, T scale, T shift);
  static void gelu_grad_row(const T* x, T* g, std::ptrdiff_t len, T scale, T shift);
};

template <class T>
void ActivationRows<T>::row(Activation act, const T* x, T* out, std::ptrdiff_t len, T scale, T shift) {
  switch (act.kind) {
    case Activation::gelu:
      return gelu_row(x, out, len, scale, shift);
    case Activation::relu:
#pragma omp simd
      for (std::ptrdiff_t i = 0; i < len; ++i) out[i] = std::max(x[i] * scale + shift, T(0));
      return;
    case Activation::none:
#pragma omp simd
      for (std::ptrdiff_t i = 0; i < len; ++i) out[i] = x[i] * scale + shift;
      return;
    case Activation::leaky_relu: {
      const T slope = T(act.slope);
#pragma omp simd
      for (std::ptrdiff_t i = 0; i < len; ++i) {
        const T z = x[i] * scale + shift;
        out[i] = z > T(0) ? z : z * slope;
      }
      return;
    }
    default: {  // the transcendental ones through Eigen's vectorised exp, tanh and log1p (expressions, no temporaries)
      Eigen::Map<const Row> in(x, len);
      Eigen::Map<Row> y(out, len);
      const auto z = in * scale + shift;
      if (act.kind == Activation::silu)
        y = z / (T(1) + (-z).exp());
      else if (act.kind == Activation::sigmoid)
        y = T(1) / (T(1) + (-z).exp());
      else if (act.kind == Activation::tanh)
        y = z.tanh();
      else  // softplus, beta 1, threshold 20
        y = (z > T(20)).select(z, z.exp().log1p());
    }
  }
}

template <class T>
void ActivationRows<T>::grad_row(Activation act, const T* x, T* g, std::ptrdiff_t len, T scale, T shift) {
  switch (act.kind) {
    case Activation::gelu:
      return gelu_grad_row(x, g, len, scale, shift);
    case Activation::none:
      return;
    case Activation::relu:
#pragma omp simd
      for (std::ptrdiff_t i = 0; i < len; ++i) g[i] = x[i] * scale + shift > T(0) ? g[i] : T(0);
      return;
    case Activation::leaky_relu: {
      const T slope = T(act.slope);
#pragma omp simd
      for (std::ptrdiff_t i = 0; i < len; ++i) g[i] = x[i] * scale + shift > T(0) ? g[i] : g[i] * slope;
      return;
    }
    default: {
      Eigen::Map<const Row> in(x, len);
      Eigen::Map<Row> grad(g, len);
      const auto z = in * scale + shift;
      if (act.kind == Activation::tanh) {
        grad *= T(1) - z.tanh().square();
        return;
      }
      const auto s = (T(1) + (-z).exp()).inverse();  // sigmoid(z)
      if (act.kind == Activation::silu)
        grad *= s * (T(1) + z * (T(1) - s));
      else if (act.kind == Activation::sigmoid)
        grad *= s * (T(1) - s);
      else  // softplus
        grad *= (z > T(20)).select(T(1), s);
    }
  }
}

template <class T>
void ActivationRows<T>::gelu_row(const T* x, T* out, std::ptrdiff_t len, T scale, T shift) {
  Eigen::Map<const Row> in(x, len);
  Eigen::Map<Row> y(out, len);
  const auto z = in * scale + shift;
  y = T(0.5) * z * (T(1) + (z * T(M_SQRT1_2)).erf());
}

template <class T>
void ActivationRows<T>::gelu_grad_row(const T* x, T* g, std::ptrdiff_t len, T scale, T shift) {
  Eigen::Map<const Row> in(x, len);
  Eigen::Map<Row> grad(g, len);
  const auto z = in * scale + shift;
  grad *=
      T(0.5) * (T(1) + (z * T(M_SQRT1_2)).erf()) + z * (T(-0.5) * z.square()).exp() * T(0.5 * M_2_SQRTPI * M_SQRT1_2);
}

}  // namespace unetflow::cpu_impl
