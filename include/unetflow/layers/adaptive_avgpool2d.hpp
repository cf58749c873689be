#pragma once
// AdaptiveAvgPool2d: each channel's mean over its plane, C x H x W -> C x 1 x 1, as nn.AdaptiveAvgPool2d(1) (the
// global average pooling before a classifier's Linear; ToVector then gives the vector).
#include <string>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"

namespace unetflow {

template <class B = cpu>
struct AdaptiveAvgPool2d : OwnsOutput<AdaptiveAvgPool2d<B>, B> {
  static_assert(check_backend<B>());
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = Shape<In::C, 1, 1>;
  using OwnsOutput<AdaptiveAvgPool2d, B>::forward;

  template <class In, class U, class Out>
  void forward(View<In, U> x, View<Out, T> y) const {
    check<In, U, Out>();
    B::channel_mean(x.rows(), y.rows(), x.n, In::C, In::plane);
  }
  template <class In, class U, class Out, class V>
  void backward(View<In, U> x, View<Out, V> dy, View<In, T> dx, bool accumulate = false) const {
    check<In, U, Out>();
    if (dx) B::channel_broadcast(dy.rows(), dx.rows(), x.n, In::C, In::plane, T(1.0 / In::plane), accumulate);
  }
  template <class F>
  void visit(const std::string&, F&&) {}

 private:
  template <class In, class U, class Out>
  static constexpr void check() {
    static_assert(std::is_same_v<Out, output_shape<In>>, "AdaptiveAvgPool2d: the output must be C x 1 x 1");
    static_assert(detail::same_scalar_v<U, T>, "AdaptiveAvgPool2d: the input's scalar type differs from the backend's");
  }
};

}  // namespace unetflow
