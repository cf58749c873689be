#pragma once
// LayerNorm<Norm>: nn.LayerNorm(normalized_shape) (eps 1e-5, element-wise affine), over one of two extents:
//   LayerNorm<Shape<C, H, W>> on C x H x W maps (or LayerNorm<Vec<F>> on vectors): over each whole sample,
//     weight and bias of the sample's shape ([C, H, W], or [F]);
//   LayerNorm<Vec<W>> on C x H x W maps: over the last dimension, each row of W values, weight and bias [W].
// Built, as GroupNorm, from the backend's BatchNorm and modulation primitives: the batch seen as one sample of
// `rows` channels of `len` values has exactly the rows' statistics, and the element-wise affine is a modulation
// with one "channel" per element. The same in training and evaluation mode.
#include <string>
#include <type_traits>
#include <vector>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"
#include "../param.hpp"
#include "norm_rows.hpp"

namespace unetflow {

template <class Norm, class B = cpu>
class LayerNorm : public OwnsOutput<LayerNorm<Norm, B>, B> {
  static_assert(check_backend<B>());
  static_assert(is_shape_v<Norm>, "LayerNorm: the normalised extent must be a Shape or a Vec");
  static constexpr bool norm_is_vector = Norm::H == 1 && Norm::W == 1;

 public:
  using backend = B;
  using T = typename B::scalar;
  static constexpr double eps = 1e-5;
  static constexpr int len = int(Norm::size);
  template <class In>
  using output_shape = In;
  template <class In>
  static constexpr bool accepts = std::is_same_v<In, Norm> || (norm_is_vector && In::W == Norm::C && In::W > 1);

  Param<B> weight{dims(), 0.0, T(1)};
  Param<B> bias{dims(), 0.0, T(0)};
  using OwnsOutput<LayerNorm, B>::forward;

  template <class In, class U, class Out>
  void forward(View<In, U> x, View<Out, T> y) {
    check<In, U, Out>();
    const int n = x.n, rows = n * int(In::size / len);
    input_ = rows_.contiguous(x, contiguous_);
    rows_.prepare(rows);
    B::bn_stats(input_, 1, rows, len, rows_.mean.data(), rows_.invstd.data());
    B::bn_prepare(rows_.mean.data(), rows_.invstd.data(), rows_.unused_a.data(), rows_.unused_b.data(), rows,
                  double(len), 0.0, eps, true);
    normalised_.reserve(std::ptrdiff_t(rows) * len);
    B::bn_apply(input_, Strided<T>{normalised_.data(), 0}, 1, rows, len, rows_.mean.data(), rows_.invstd.data(),
                rows_.ones.data(), rows_.zeros.data(), Activation::none);
    T* out = y.contiguous() ? y.data : reserve_view<In>(output_, n).data;
    B::modulate_forward(Strided<const T>{normalised_.data(), len}, Strided<const T>{weight.data(), 0},
                        Strided<const T>{bias.data(), 0}, Strided<T>{out, len}, rows, len, 1);
    if (out != y.data) B::copy_rows(Strided<const T>{out, In::size}, y.rows(), n, In::size);
  }

  // Needs the forward just before, with this x.
  template <class In, class U, class Out, class V>
  void backward(View<In, U> x, View<Out, V> dy, View<In, T> dx, bool accumulate = false) {
    check<In, U, Out>();
    const int n = x.n, rows = n * int(In::size / len);
    const Strided<const T> g_in = rows_.contiguous(View<In, const T>{dy.data, n, dy.stride}, dy_copy_);
    // The input gradient is formed in dx itself when dx is a fresh contiguous tensor apart from the forward's input
    // (dx may be dy: the bias sums read dy first, and the modulation reads each element before writing it).
    const bool in_dx = dx && !accumulate && dx.contiguous() && dx.data != input_.data;
    if (!in_dx) gradient_.reserve(std::ptrdiff_t(rows) * len);
    T* gradient = in_dx ? dx.data : gradient_.data();
    dscale_.reserve(std::ptrdiff_t(rows) * len);
    B::channel_sums(Strided<const T>{g_in.data, len}, rows, len, 1, bias.grad.data());
    B::modulate_backward(Strided<const T>{normalised_.data(), len}, Strided<const T>{weight.data(), 0},
                         Strided<const T>{g_in.data, len}, Strided<T>{gradient, len}, Strided<T>{dscale_.data(), len},
                         Strided<T>{nullptr, 0}, rows, len, 1);
    B::channel_sums(Strided<const T>{dscale_.data(), len}, rows, len, 1, weight.grad.data());
    if (!dx) return;
    B::bn_backward(input_, Strided<T>{gradient, 0}, 1, rows, len, rows_.mean.data(), rows_.invstd.data(),
                   rows_.ones.data(), rows_.zeros.data(), rows_.unused_a.data(), rows_.unused_b.data(), true,
                   Activation::none);
    if (in_dx) return;
    const Strided<const T> g{gradient_.data(), In::size};
    if (accumulate)
      B::add_rows(g, dx.rows(), n, In::size);
    else
      B::copy_rows(g, dx.rows(), n, In::size);
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "weight", weight);
    f(prefix + "bias", bias);
  }

 private:
  static std::vector<std::int64_t> dims() {
    if constexpr (norm_is_vector)
      return {Norm::C};
    else
      return {Norm::C, Norm::H, Norm::W};
  }
  template <class In, class U, class Out>
  static constexpr void check() {
    static_assert(accepts<In>,
                  "LayerNorm: the normalised shape must be the input's whole shape, or Vec<W> for a map W wide");
    static_assert(std::is_same_v<In, Out>, "LayerNorm: input and output shapes must be equal");
    static_assert(detail::same_scalar_v<U, T>, "LayerNorm: the input's scalar type differs from the backend's");
  }
  detail::NormRows<B> rows_;
  Storage<B> normalised_, gradient_, dscale_, contiguous_, dy_copy_, output_;
  Strided<const T> input_;
};

}  // namespace unetflow
