#pragma once
// What every leveled UNet family (unet.hpp, res_unet.hpp) takes and checks: the per-level widths, and the image
// sizes that fit a given depth.
namespace unetflow {

// Per-level width multipliers of the hidden width D, outermost first: Widths<1, 2> is the assignment's (D, 2D).
template <int... M>
struct Widths {
  static constexpr int levels = sizeof...(M);
};

namespace detail {
// Instantiated with the image's size, so that the line above a failure shows H and W.
template <int H, int W, int Levels>
struct UNetSizes {
  static_assert(H % (1 << Levels) == 0,
                "UNet: the image height H does not divide by 2^levels (one stride-2 halving per level)");
  static_assert(W % (1 << Levels) == 0,
                "UNet: the image width W does not divide by 2^levels (one stride-2 halving per level)");
  static_assert(H == W, "UNet: the image must be square (the bottleneck averages its whole map)");
  static constexpr bool ok = true;
  static constexpr bool fit = H % (1 << Levels) == 0 && W % (1 << Levels) == 0 && H == W;
};
// What a UNet of a size that does not fit becomes once its static_assert has spoken: a type that takes any call,
// so that the one message above is the only one.
struct UNetOfWrongSize {
  template <class... A>
  void forward(A&&...) {}
  template <class... A>
  void backward(A&&...) {}
  template <class... A>
  void visit(A&&...) {}
};
}  // namespace detail

}  // namespace unetflow
