#pragma once
// GELU, exact (erf) form as nn.GELU(). Stateless: backward takes the forward's input again.
//   forward(x, y)         y may alias x
//   backward(x, dy, dx)   dx may alias dy
#include "../backend/cpu.hpp"
#include "check.hpp"

namespace unetflow {

template <class B = cpu>
struct GELU {
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = In;

  template <class S, class U>
  void forward(View<S, U> x, View<S, T> y) const {
    static_assert(detail::same_scalar_v<U, T>, "GELU: the input's scalar type differs from the backend's");
    B::gelu_forward(x.rows(), y.rows(), x.n, S::size);
  }
  template <class S, class U, class V>
  void backward(View<S, U> x, View<S, V> dy, View<S, T> dx) const {
    if (dx.data != dy.data || dx.stride != dy.stride) B::copy_rows(dy.rows(), dx.rows(), x.n, S::size);
    B::gelu_backward(x.rows(), dx.rows(), x.n, S::size);
  }
  template <class F>
  void visit(const std::string&, F&&) {}
};

}  // namespace unetflow
