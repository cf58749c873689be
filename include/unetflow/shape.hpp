#pragma once
// Static shapes: the channel count and spatial size of one sample are types; only the batch is a run-time number.
#include <cstddef>

namespace unetflow {

template <int C_, int H_, int W_>
struct Shape {
  static_assert(C_ > 0 && H_ > 0 && W_ > 0, "Shape: every dimension must be positive");
  static constexpr int C = C_;
  static constexpr int H = H_;
  static constexpr int W = W_;
  static constexpr int plane = H_ * W_;
  static constexpr std::ptrdiff_t size = std::ptrdiff_t(C_) * H_ * W_;
};

// A feature vector (Linear layers, conditioning signals) is a map with a 1x1 plane.
template <int F>
using Vec = Shape<F, 1, 1>;

template <class S>
inline constexpr bool is_shape_v = false;
template <int C, int H, int W>
inline constexpr bool is_shape_v<Shape<C, H, W>> = true;

// Output extent of a convolution (or pooling) along one axis.
constexpr int conv_out(int in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }
// Output extent of a transposed convolution along one axis.
constexpr int conv_transpose_out(int in, int k, int s, int p) { return (in - 1) * s - 2 * p + k; }

template <class A, class B>
struct ConcatShape {
  static_assert(A::H == B::H && A::W == B::W,
                "Concat: both tensors must have the same height and width (channel concatenation only)");
  using type = Shape<A::C + B::C, A::H, A::W>;
};
template <class A, class B>
using concat_t = typename ConcatShape<A, B>::type;

}  // namespace unetflow
