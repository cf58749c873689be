#pragma once
// Identity: y = x, as nn.Identity (what stands in a model where a variant has a transform, e.g. a skip path).
#include <string>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"

namespace unetflow {

template <class B = cpu>
struct Identity : OwnsOutput<Identity<B>, B> {
  static_assert(check_backend<B>());
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = In;
  using OwnsOutput<Identity, B>::forward;

  template <class S, class U>
  void forward(View<S, U> x, View<S, T> y) const {
    static_assert(detail::same_scalar_v<U, T>, "Identity: the input's scalar type differs from the backend's");
    if (x.data != y.data || x.stride != y.stride) B::copy_rows(x.rows(), y.rows(), x.n, S::size);
  }
  template <class S, class U, class V>
  void backward(View<S, U> x, View<S, V> dy, View<S, T> dx, bool accumulate = false) const {
    if (!dx) return;
    if (accumulate)
      B::add_rows(dy.rows(), dx.rows(), x.n, S::size);
    else if (dx.data != dy.data || dx.stride != dy.stride)
      B::copy_rows(dy.rows(), dx.rows(), x.n, S::size);
  }
  template <class F>
  void visit(const std::string&, F&&) {}
};

}  // namespace unetflow
