#pragma once
// The assignment's UNets (docs/models.md), composed from levels (unet_level.hpp); the three models are aliases of
// UNetModel, a LeveledUNet (leveled_unet.hpp):
//   UNet<Cin, H, W, D>                    y = net(x)
//   TimeUNet<Cin, H, W, D>                y = net(x, t)      t: Vec<1> in [0, 1]
//   ClassTimeUNet<Cin, H, W, D, N>        y = net(x, t, c)   c: one-hot Vec<N>, all zeros = no class
// Any square image whose side divides by 4 (two halvings): 28x28 as the assignment, 32x32 for CIFAR-sized data.
// Parameter names follow the PyTorch reference module (c0, d1, d2, unflat, u1, u2, c1, out, fc1_t, ...).
// PlainUNet is the same family at any depth and per-level widths, conditioned at every level.
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../backend/cpu.hpp"  // the default backend of the models
#include "../blocks/chain.hpp"
#include "../layers/conv2d.hpp"
#include "leveled_unet.hpp"
#include "unet_level.hpp"
#include "unet_sizes.hpp"

namespace unetflow {

namespace detail {
// Levels d1..dL of the plain family below a parent of Cp channels: level k has D * W_k channels, a DownBlock in, an
// UpBlock back to Cp channels; the deepest one's middle is the bottleneck (K x K -> 1 -> K x K).
template <int Cp, int K, class Cond, class B, int C, int... Cs>
struct PlainLevels {
  using type =
      UNetLevel<DownBlock<Cp, C, B>, typename PlainLevels<C, K, Cond, B, Cs...>::type, UpBlock<2 * C, Cp, B>, Cond>;
};
template <int Cp, int K, class Cond, class B, int C>
struct PlainLevels<Cp, K, Cond, B, C> {
  using type = UNetLevel<DownBlock<Cp, C, B>, UNetBottleneck<C, K, B>, UpBlock<2 * C, Cp, B>, Cond>;
};
}  // namespace detail

namespace detail {
template <int Cin, int H, int W, int D, class Ws, class Cond, class B>
struct PlainUNetType;
template <int Cin, int H, int W, int D, int... M, class Cond, class B>
struct PlainUNetType<Cin, H, W, D, Widths<M...>, Cond, B> {
  static_assert(sizeof...(M) > 0, "PlainUNet: give Widths at least one level");
  static_assert(((M > 0) && ...), "PlainUNet: every width multiplier must be positive");
  static_assert(UNetSizes<H, W, sizeof...(M)>::ok);
  static constexpr int K = H >> sizeof...(M);
  using type = std::conditional_t<
      UNetSizes<H, W, sizeof...(M)>::fit,
      LeveledUNet<Shape<Cin, H, W>,
                  UNetLevel<ConvBlock<Cin, D, B>, typename PlainLevels<D, K, Cond, B, D * M...>::type,
                            ConvBlock<2 * D, D, B>, Cond>,
                  Conv2d<D, Cin, 3, 1, 1, B>>,
      UNetOfWrongSize>;
};
}  // namespace detail

// The assignment's blocks at any depth: PlainUNet<1, 32, 32, 32, Widths<1, 2, 4>, TimeConditioned> has three
// halvings (32 -> 16 -> 8 -> 4) with 32, 64 and 128 channels, the time reaching every up level.
template <int Cin, int H, int W, int D, class Ws = Widths<1, 2>, class Cond = Unconditioned, class B = cpu>
using PlainUNet = typename detail::PlainUNetType<Cin, H, W, D, Ws, Cond, B>::type;

namespace detail {
template <bool Time, int Classes>
using AssignmentConditioning = std::conditional_t<(Classes > 0), TimeClassConditioned<(Classes > 0 ? Classes : 1)>,
                                                  std::conditional_t<Time, TimeConditioned, Unconditioned>>;
}  // namespace detail

// The assignment's wiring: a LeveledUNet of two levels of widths (D, 2D), conditioned at the two up levels below the
// outermost; a size that does not fit leaves one static_assert and an inert type.
template <int Cin, int H, int W, int D, bool Time, int Classes, class B = cpu>
class UNetModel
    : public std::conditional_t<
          detail::UNetSizes<H, W, 2>::fit,
          LeveledUNet<Shape<Cin, H, W>,
                      UNetLevel<ConvBlock<Cin, D, B>,
                                typename detail::PlainLevels<D, (H >> 2), detail::AssignmentConditioning<Time, Classes>,
                                                             B, D, 2 * D>::type,
                                ConvBlock<2 * D, D, B>, Unconditioned>,
                      Conv2d<D, Cin, 3, 1, 1, B>>,
          detail::UNetOfWrongSize> {
  static_assert(!(Classes > 0 && !Time),
                "UNetModel: class conditioning is only defined together with time conditioning");
  static_assert(detail::UNetSizes<H, W, 2>::ok);
};

template <int Cin, int H, int W, int D, class B = cpu>
using UNet = UNetModel<Cin, H, W, D, false, 0, B>;
template <int Cin, int H, int W, int D, class B = cpu>
using TimeUNet = UNetModel<Cin, H, W, D, true, 0, B>;
template <int Cin, int H, int W, int D, int Classes, class B = cpu>
using ClassTimeUNet = UNetModel<Cin, H, W, D, true, Classes, B>;

}  // namespace unetflow
