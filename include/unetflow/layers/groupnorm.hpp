#pragma once
// GroupNorm<C, G>: PyTorch's nn.GroupNorm(G, C) (eps 1e-5, affine): each sample's channels in G groups of C/G,
// each group normalised by its own mean and variance over its C/G x H x W values, then y = x̂ gamma[c] + beta[c].
// Independent of the batch (the same in training and evaluation mode), the norm diffusion UNets use.
// Built from the backend's BatchNorm and modulation primitives (so every backend has it): a sample's group is
// contiguous, so the batch seen as one sample of n·G "channels" of (C/G)·plane values has exactly the groups'
// statistics; the per-channel affine is a modulation whose scale and shift rows are all gamma and beta.
//   forward(x, y), backward(x, dy, dx, accumulate): the layer protocol (module.hpp); y may not alias x.
#include <string>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"
#include "../param.hpp"
#include "norm_rows.hpp"

namespace unetflow {

template <int C, int G, class B = cpu>
class GroupNorm : public OwnsOutput<GroupNorm<C, G, B>, B> {
  static_assert(check_backend<B>());
  static_assert(G > 0 && C % G == 0, "GroupNorm: the channel count must be a multiple of the group count");

 public:
  using backend = B;
  using T = typename B::scalar;
  static constexpr double eps = 1e-5;
  template <class In>
  using output_shape = In;
  template <class In>
  static constexpr bool accepts = In::C == C;
  using OwnsOutput<GroupNorm, B>::forward;

  Param<B> weight{{C}, 0.0, T(1)};
  Param<B> bias{{C}, 0.0, T(0)};

  template <class In, class U, class Out>
  void forward(View<In, U> x, View<Out, T> y) {
    check<In, U, Out>();
    const int n = x.n, groups = n * G;
    const auto input = input_ = rows_.contiguous(x, contiguous_);
    rows_.prepare(groups);
    constexpr std::ptrdiff_t per_group = In::size / G;
    B::bn_stats(input, 1, groups, per_group, rows_.mean.data(), rows_.invstd.data());
    B::bn_prepare(rows_.mean.data(), rows_.invstd.data(), rows_.unused_a.data(), rows_.unused_b.data(), groups,
                  double(per_group), 0.0, eps, true);
    auto normalised = reserve_view<In>(normalised_, n);
    B::bn_apply(input, Strided<T>{normalised.data, 0}, 1, groups, per_group, rows_.mean.data(), rows_.invstd.data(),
                rows_.ones.data(), rows_.zeros.data(), B::Activation::none);
    B::modulate_forward(View<In, const T>(normalised).rows(), Strided<const T>{weight.data(), 0},
                        Strided<const T>{bias.data(), 0}, y.rows(), n, C, In::plane);
  }

  // Needs the forward just before, with this x (its statistics, normalised map and contiguous input).
  template <class In, class U, class Out, class V>
  void backward(View<In, U> x, View<Out, V> dy, View<In, T> dx, bool accumulate = false) {
    check<In, U, Out>();
    const int n = x.n, groups = n * G;
    constexpr std::ptrdiff_t per_group = In::size / G;
    auto g = reserve_view<In>(gradient_, n);
    auto dscale = reserve_view<Vec<C>>(dscale_, n), dshift = reserve_view<Vec<C>>(dshift_, n);
    B::modulate_backward(View<In, const T>{normalised_.data(), n}.rows(), Strided<const T>{weight.data(), 0}, dy.rows(),
                         g.rows(), dscale.rows(), dshift.rows(), n, C, In::plane);
    B::channel_sums(View<Vec<C>, const T>(dscale).rows(), n, C, 1, weight.grad.data());
    B::channel_sums(View<Vec<C>, const T>(dshift).rows(), n, C, 1, bias.grad.data());
    if (!dx) return;
    // x̂'s gradient to x's, group by group: BatchNorm's batch-statistics backward with gamma 1.
    B::bn_backward(input_, Strided<T>{g.data, 0}, 1, groups, per_group, rows_.mean.data(), rows_.invstd.data(),
                   rows_.ones.data(), rows_.zeros.data(), rows_.unused_a.data(), rows_.unused_b.data(), true,
                   B::Activation::none);
    if (accumulate)
      B::add_rows(View<In, const T>(g).rows(), dx.rows(), n, In::size);
    else
      B::copy_rows(View<In, const T>(g).rows(), dx.rows(), n, In::size);
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "weight", weight);
    f(prefix + "bias", bias);
  }

 private:
  template <class In, class U, class Out>
  static constexpr void check() {
    static_assert(In::C == C, "GroupNorm: the input's channel count differs from the layer's");
    static_assert(std::is_same_v<In, Out>, "GroupNorm: input and output shapes must be equal");
    static_assert(detail::same_scalar_v<U, T>, "GroupNorm: the input's scalar type differs from the backend's");
  }
  detail::NormRows<B> rows_;
  Storage<B> normalised_, gradient_, dscale_, dshift_, contiguous_;
  Strided<const T> input_;  // the last forward's x, back to back (x itself, or its copy in contiguous_)
};

}  // namespace unetflow
