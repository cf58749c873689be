#pragma once
// AvgPool2d<K>: k x k windows with stride k, no padding (as nn.AvgPool2d(K)).
#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"

namespace unetflow {

template <int K, class B = cpu>
struct AvgPool2d : OwnsOutput<AvgPool2d<K, B>, B> {
  static_assert(check_backend<B>());
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = Shape<In::C, conv_out(In::H, K, K, 0), conv_out(In::W, K, K, 0)>;
  template <class In>
  static constexpr bool accepts = In::H % K == 0 && In::W % K == 0;
  using OwnsOutput<AvgPool2d, B>::forward;

  template <class In, class U, class Out>
  void forward(View<In, U> x, View<Out, T> y) const {
    check<In, U, Out>();
    B::avgpool_forward(x.rows(), y.rows(), x.n, In::C, In::H, In::W, K);
  }
  // x is not needed (the gradient of a mean does not depend on the values); taken for a uniform interface.
  template <class In, class U, class Out, class V>
  void backward(View<In, U>, View<Out, V> dy, View<In, T> dx, bool accumulate = false) const {
    check<In, U, Out>();
    B::avgpool_backward(dy.rows(), dx.rows(), dx.n, In::C, In::H, In::W, K, accumulate);
  }
  template <class F>
  void visit(const std::string&, F&&) {}

 private:
  template <class In, class U, class Out>
  static constexpr void check() {
    static_assert(In::H % K == 0 && In::W % K == 0, "AvgPool2d: the map's height and width must be multiples of K");
    static_assert(std::is_same_v<Out, output_shape<In>>, "AvgPool2d: the output's shape is not the pooled input's");
    static_assert(detail::same_scalar_v<U, T>, "AvgPool2d: the input's scalar type differs from the backend's");
  }
};

}  // namespace unetflow
