#pragma once
// GELU, exact (erf) form as nn.GELU(). Follows the layer protocol (module.hpp):
//   forward(x, y)                   y may alias x
//   backward(x, dy, dx, accumulate) x is the forward's input; dx may alias dy (then computed in place)
#include <string>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"

namespace unetflow {

template <class B = cpu>
struct GELU : OwnsOutput<GELU<B>, B> {
  static_assert(check_backend<B>());
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = In;
  using OwnsOutput<GELU, B>::forward;

  template <class S, class U>
  void forward(View<S, U> x, View<S, T> y) const {
    static_assert(detail::same_scalar_v<U, T>, "GELU: the input's scalar type differs from the backend's");
    B::gelu_forward(x.rows(), y.rows(), x.n, S::size);
  }
  template <class S, class U, class V>
  void backward(View<S, U> x, View<S, V> dy, View<S, T> dx, bool accumulate = false) {
    if (!dx) return;   // no parameters: nothing else to compute
    if (accumulate) {  // dx += GELU'(x) dy, through a buffer of our own
      auto g = reserve_view<S>(gradient_, x.n);
      B::copy_rows(dy.rows(), g.rows(), x.n, S::size);
      B::gelu_backward(x.rows(), g.rows(), x.n, S::size);
      B::add_rows(View<S, const T>(g).rows(), dx.rows(), x.n, S::size);
      return;
    }
    if (dx.data != dy.data || dx.stride != dy.stride) B::copy_rows(dy.rows(), dx.rows(), x.n, S::size);
    B::gelu_backward(x.rows(), dx.rows(), x.n, S::size);
  }
  template <class F>
  void visit(const std::string&, F&&) {}

 private:
  Storage<B> gradient_;  // only for accumulating backward
};

}  // namespace unetflow
