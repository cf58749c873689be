#pragma once
// MaxPool2d<K, S, P>: the maximum of each k x k window, stride S (K by default), padding P that never wins, as
// nn.MaxPool2d(K, S, P). Backward sends each window's gradient to its arg-max, found again in x (the first maximum
// in row-major order, as PyTorch), so nothing is kept between the passes.
#include <string>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"

namespace unetflow {

template <int K, int S = K, int P = 0, class B = cpu>
struct MaxPool2d : OwnsOutput<MaxPool2d<K, S, P, B>, B> {
  static_assert(check_backend<B>());
  static_assert(K >= 1 && S >= 1 && P >= 0 && 2 * P <= K, "MaxPool2d: needs K, S >= 1 and padding at most K / 2");
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = Shape<In::C, conv_out(In::H, K, S, P), conv_out(In::W, K, S, P)>;
  template <class In>
  static constexpr bool accepts = In::H + 2 * P >= K&& In::W + 2 * P >= K && (In::H + 2 * P - K) % S == 0 &&
                                  (In::W + 2 * P - K) % S == 0;
  using OwnsOutput<MaxPool2d, B>::forward;

  template <class In, class U, class Out>
  void forward(View<In, U> x, View<Out, T> y) const {
    check<In, U, Out>();
    B::maxpool_forward(x.rows(), y.rows(), x.n, In::C, In::H, In::W, K, S, P);
  }
  template <class In, class U, class Out, class V>
  void backward(View<In, U> x, View<Out, V> dy, View<In, T> dx, bool accumulate = false) const {
    check<In, U, Out>();
    if (dx) B::maxpool_backward(x.rows(), dy.rows(), dx.rows(), x.n, In::C, In::H, In::W, K, S, P, accumulate);
  }
  template <class F>
  void visit(const std::string&, F&&) {}

 private:
  template <class In, class U, class Out>
  static constexpr void check() {
    static_assert(accepts<In>, "MaxPool2d: the map's side plus padding, less K, must divide by the stride S");
    static_assert(std::is_same_v<Out, output_shape<In>>, "MaxPool2d: the output's shape is not the pooled input's");
    static_assert(detail::same_scalar_v<U, T>, "MaxPool2d: the input's scalar type differs from the backend's");
  }
};

}  // namespace unetflow
