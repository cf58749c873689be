#pragma once
// ResUNet: a UNet of residual blocks with self-attention at one resolution, in the manner of the DDPM/ADM UNets,
// composed from levels (unet_level.hpp), a sibling of the assignment's family (unet.hpp):
//   stem ResBlock<Cin, D>, then per level k (C_k = D * W_k channels, the side halved):
//     down  DownConv<C_{k-1}, C_k> -> ResBlock<C_k, C_k>            (-> SelfAttention where the side is A)
//     up    UpConv<2 C_k, C_{k-1}> -> ResBlock<C_{k-1}, C_{k-1}>     (-> SelfAttention where the side is A)
//   the middle the bottleneck (K x K -> 1 -> K x K), the outermost up ResBlock<2D, D>, the head a 3x3 Conv2d.
// Cond conditions every level (Unconditioned, TimeConditioned, TimeClassConditioned<N>).
//   ResUNet<3, 32, 32, 32, Widths<1, 2, 2>, TimeClassConditioned<10>, 8>: 32 -> 16 -> 8 -> 4, attention at 8x8.
#include "../backend/cpu.hpp"  // the default backend of the models
#include "../blocks/res_block.hpp"
#include "../blocks/self_attention.hpp"
#include "../blocks/sequential.hpp"
#include "../layers/conv2d.hpp"
#include "leveled_unet.hpp"
#include "unet_level.hpp"
#include "unet_sizes.hpp"

namespace unetflow {

namespace detail {
template <int C, int Heads, class B, bool Attend, class... Ms>
using MaybeAttending = std::conditional_t<Attend, Sequential<Ms..., SelfAttention<C, Heads, B>>, Sequential<Ms...>>;

// The levels below a parent of Cp channels whose map has side S.
template <int S, int Cp, int K, class Cond, int A, int Heads, class B, int C, int... Cs>
struct ResLevels {
  using Inner = typename ResLevels<S / 2, C, K, Cond, A, Heads, B, Cs...>::type;
  using type = UNetLevel<MaybeAttending<C, Heads, B, S / 2 == A, DownConv<Cp, C, B>, ResBlock<C, C, B>>, Inner,
                         MaybeAttending<Cp, Heads, B, S == A, UpConv<2 * C, Cp, B>, ResBlock<Cp, Cp, B>>, Cond>;
};
template <int S, int Cp, int K, class Cond, int A, int Heads, class B, int C>
struct ResLevels<S, Cp, K, Cond, A, Heads, B, C> {
  using type =
      UNetLevel<MaybeAttending<C, Heads, B, S / 2 == A, DownConv<Cp, C, B>, ResBlock<C, C, B>>, UNetBottleneck<C, K, B>,
                MaybeAttending<Cp, Heads, B, S == A, UpConv<2 * C, Cp, B>, ResBlock<Cp, Cp, B>>, Cond>;
};

template <int Cin, int H, int W, int D, class Ws, class Cond, int A, int Heads, class B>
struct ResUNetType;
template <int Cin, int H, int W, int D, int... M, class Cond, int A, int Heads, class B>
struct ResUNetType<Cin, H, W, D, Widths<M...>, Cond, A, Heads, B> {
  static_assert(sizeof...(M) > 0, "ResUNet: give Widths at least one level");
  static_assert(((M > 0) && ...), "ResUNet: every width multiplier must be positive");
  static_assert(UNetSizes<H, W, sizeof...(M)>::ok);
  using type = std::conditional_t<
      UNetSizes<H, W, sizeof...(M)>::fit,
      LeveledUNet<Shape<Cin, H, W>,
                  UNetLevel<ResBlock<Cin, D, B>,
                            typename ResLevels<H, D, (H >> sizeof...(M)), Cond, A, Heads, B, D * M...>::type,
                            ResBlock<2 * D, D, B>, Cond>,
                  Conv2d<D, Cin, 3, 1, 1, B>>,
      UNetOfWrongSize>;
};
}  // namespace detail

template <int Cin, int H, int W, int D, class Ws = Widths<1, 2, 2>, class Cond = Unconditioned, int AttentionSide = 8,
          int Heads = 4, class B = cpu>
using ResUNet = typename detail::ResUNetType<Cin, H, W, D, Ws, Cond, AttentionSide, Heads, B>::type;

}  // namespace unetflow
