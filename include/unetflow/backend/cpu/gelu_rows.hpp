#pragma once
// GELU over one row of z = x * scale + shift, with Eigen's vectorised erf and exp (pointwise and BatchNorm use it).
#include "eigen.hpp"
#include <cmath>
#include <cstddef>

namespace unetflow::cpu_impl {

template <class T>
struct GeluRows {
  // Rows of z = x * scale + shift through GELU (out = gelu(z)) or its derivative (g *= gelu'(z)).
  using Row = Eigen::Array<T, Eigen::Dynamic, 1>;
  static void gelu_row(const T* x, T* out, std::ptrdiff_t len, T scale = T(1), T shift = T(0));
  static void gelu_grad_row(const T* x, T* g, std::ptrdiff_t len, T scale = T(1), T shift = T(0));
};

template <class T>
void GeluRows<T>::gelu_row(const T* x, T* out, std::ptrdiff_t len, T scale, T shift) {
  Eigen::Map<const Row> in(x, len);
  Eigen::Map<Row> y(out, len);
  const auto z = in * scale + shift;
  y = T(0.5) * z * (T(1) + (z * T(M_SQRT1_2)).erf());
}

template <class T>
void GeluRows<T>::gelu_grad_row(const T* x, T* g, std::ptrdiff_t len, T scale, T shift) {
  Eigen::Map<const Row> in(x, len);
  Eigen::Map<Row> grad(g, len);
  const auto z = in * scale + shift;
  grad *=
      T(0.5) * (T(1) + (z * T(M_SQRT1_2)).erf()) + z * (T(-0.5) * z.square()).exp() * T(0.5 * M_2_SQRTPI * M_SQRT1_2);
}

}  // namespace unetflow::cpu_impl
