#pragma once
// The element-wise activations, PyTorch's modules of the same names: GELU (exact erf form), ReLU,
// LeakyReLU(negative_slope = 0.01), SiLU, Tanh, Sigmoid, Softplus (beta 1, threshold 20). Each follows the layer
// protocol (module.hpp):
//   forward(x, y)                   y may alias x
//   backward(x, dy, dx, accumulate) x is the forward's input; dx may alias dy (then computed in place)
// and names its Activation (activation()), which a fused block (ConvBnAct) applies inside BatchNorm's pass.
#include <string>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"

namespace unetflow {
namespace detail {

template <class Derived, class B>
struct ElementwiseActivation : OwnsOutput<Derived, B> {
  static_assert(check_backend<B>());
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = In;
  using OwnsOutput<Derived, B>::forward;

  template <class S, class U>
  void forward(View<S, U> x, View<S, T> y) const {
    static_assert(detail::same_scalar_v<U, T>, "activation: the input's scalar type differs from the backend's");
    B::activation_forward(x.rows(), y.rows(), x.n, S::size, self().activation());
  }
  template <class S, class U, class V>
  void backward(View<S, U> x, View<S, V> dy, View<S, T> dx, bool accumulate = false) {
    if (!dx) return;   // no parameters: nothing else to compute
    if (accumulate) {  // dx += act'(x) dy, through a buffer of our own
      auto g = reserve_view<S>(gradient_, x.n);
      B::copy_rows(dy.rows(), g.rows(), x.n, S::size);
      B::activation_backward(x.rows(), g.rows(), x.n, S::size, self().activation());
      B::add_rows(View<S, const T>(g).rows(), dx.rows(), x.n, S::size);
      return;
    }
    if (dx.data != dy.data || dx.stride != dy.stride) B::copy_rows(dy.rows(), dx.rows(), x.n, S::size);
    B::activation_backward(x.rows(), dx.rows(), x.n, S::size, self().activation());
  }
  template <class F>
  void visit(const std::string&, F&&) {}

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
  Storage<B> gradient_;  // only for accumulating backward
};

}  // namespace detail

template <class B = cpu>
struct GELU : detail::ElementwiseActivation<GELU<B>, B> {
  static constexpr Activation activation() { return Activation::gelu; }
};
template <class B = cpu>
struct ReLU : detail::ElementwiseActivation<ReLU<B>, B> {
  static constexpr Activation activation() { return Activation::relu; }
};
template <class B = cpu>
struct SiLU : detail::ElementwiseActivation<SiLU<B>, B> {
  static constexpr Activation activation() { return Activation::silu; }
};
template <class B = cpu>
struct Tanh : detail::ElementwiseActivation<Tanh<B>, B> {
  static constexpr Activation activation() { return Activation::tanh; }
};
template <class B = cpu>
struct Sigmoid : detail::ElementwiseActivation<Sigmoid<B>, B> {
  static constexpr Activation activation() { return Activation::sigmoid; }
};
template <class B = cpu>
struct Softplus : detail::ElementwiseActivation<Softplus<B>, B> {
  static constexpr Activation activation() { return Activation::softplus; }
};

template <class B = cpu>
struct LeakyReLU : detail::ElementwiseActivation<LeakyReLU<B>, B> {
  float negative_slope = 0.01f;
  LeakyReLU() = default;
  explicit LeakyReLU(float slope) : negative_slope(slope) {}
  Activation activation() const { return {Activation::leaky_relu, negative_slope}; }
};

}  // namespace unetflow
