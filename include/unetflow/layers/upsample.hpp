#pragma once
// Upsample<F, mode>: each side times F, nearest (copies) or bilinear (align_corners = false), as
// nn.Upsample(scale_factor=F, mode=...). UpsampleTo<H, W, mode>: to a given size, a whole multiple of the input's.
#include <string>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"

namespace unetflow {

enum class UpsampleMode { nearest, bilinear };

namespace detail {
// Factor F, or (F = 0) the factor that takes the input to OutH x OutW.
template <int F, int OutH, int OutW, UpsampleMode Mode, class B>
struct Upsampling : OwnsOutput<Upsampling<F, OutH, OutW, Mode, B>, B> {
  static_assert(check_backend<B>());
  static_assert(F >= 0 && OutH >= 0 && OutW >= 0, "Upsample: the factor and the size must be positive");
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  static constexpr int factor = F > 0 ? F : OutH / In::H;
  template <class In>
  using output_shape = Shape<In::C, In::H * factor<In>, In::W * factor<In>>;
  template <class In>
  static constexpr bool accepts = F > 0 || (OutH % In::H == 0 && OutW % In::W == 0 && OutH / In::H == OutW / In::W &&
                                            OutH >= In::H);
  using OwnsOutput<Upsampling, B>::forward;

  template <class In, class U, class Out>
  void forward(View<In, U> x, View<Out, T> y) const {
    check<In, U, Out>();
    B::upsample_forward(x.rows(), y.rows(), x.n, In::C, In::H, In::W, factor<In>, Mode == UpsampleMode::bilinear);
  }
  template <class In, class U, class Out, class V>
  void backward(View<In, U> x, View<Out, V> dy, View<In, T> dx, bool accumulate = false) const {
    check<In, U, Out>();
    if (dx)
      B::upsample_backward(dy.rows(), dx.rows(), x.n, In::C, In::H, In::W, factor<In>, Mode == UpsampleMode::bilinear,
                           accumulate);
  }
  template <class F_>
  void visit(const std::string&, F_&&) {}

 private:
  template <class In, class U, class Out>
  static constexpr void check() {
    static_assert(accepts<In>,
                  "UpsampleTo: the target size must be the same whole multiple of the input's height and width");
    static_assert(!accepts<In> || std::is_same_v<Out, output_shape<In>>,
                  "Upsample: the output's shape is not the up-sampled input's");
    static_assert(detail::same_scalar_v<U, T>, "Upsample: the input's scalar type differs from the backend's");
  }
};
}  // namespace detail

template <int F = 2, UpsampleMode Mode = UpsampleMode::nearest, class B = cpu>
struct Upsample : detail::Upsampling<F, 0, 0, Mode, B> {
  static_assert(F >= 1, "Upsample: the factor must be at least 1");
};
template <int H, int W, UpsampleMode Mode = UpsampleMode::nearest, class B = cpu>
struct UpsampleTo : detail::Upsampling<0, H, W, Mode, B> {};

}  // namespace unetflow
