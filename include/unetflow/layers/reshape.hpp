#pragma once
// Reshape<Out>: each sample's values seen as shape Out (same count, same order); ToVector: as one feature vector,
// PyTorch's nn.Flatten() (what goes between a convolution stack and a Linear). No parameters.
//   forward(x)                  a view of x itself when x is writable (no copy), else a copy in a buffer of its own
//   forward(x, y)               y gets the values of x
//   backward(x, dy, dx, acc)    dx (+)= dy, seen in the input's shape
#include <string>
#include <type_traits>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"

namespace unetflow {

// The output shape a Reshape takes for ToVector.
struct AsVector {};

template <class Out, class B = cpu>
class Reshape {
  static_assert(check_backend<B>());

 public:
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = std::conditional_t<std::is_same_v<Out, AsVector>, Vec<int(In::size)>, Out>;
  template <class In>
  static constexpr bool accepts = output_shape<In>::size == In::size;

  template <class In, class U>
  View<output_shape<In>, T> forward(View<In, U> x) {
    check<In, U>();
    if constexpr (!std::is_const_v<U>) {
      return {x.data, x.n, x.stride};
    } else {
      auto y = reserve_view<output_shape<In>>(copy_, x.n);
      forward(x, y);
      return y;
    }
  }
  template <class In, class U>
  void forward(View<In, U> x, View<output_shape<In>, T> y) const {
    check<In, U>();
    B::copy_rows(x.rows(), y.rows(), x.n, In::size);
  }

  template <class In, class U, class V>
  void backward(View<In, U> x, View<output_shape<In>, V> dy, View<In, T> dx, bool accumulate = false) const {
    check<In, U>();
    if (!dx) return;
    const Strided<const T> g{dy.data, dy.stride};
    if (accumulate)
      B::add_rows(g, dx.rows(), x.n, In::size);
    else if (dx.data != dy.data)
      B::copy_rows(g, dx.rows(), x.n, In::size);
  }

  template <class F>
  void visit(const std::string&, F&&) {}

 private:
  template <class In, class U>
  static constexpr void check() {
    static_assert(accepts<In>, "Reshape: the new shape must hold as many values as the input's");
    static_assert(detail::same_scalar_v<U, T>, "Reshape: the input's scalar type differs from the backend's");
  }
  Storage<B> copy_;
};

template <class B = cpu>
using ToVector = Reshape<AsVector, B>;

}  // namespace unetflow
