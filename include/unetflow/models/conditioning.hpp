#pragma once
// How a UNet level is conditioned before its skip concatenation (unet_level.hpp):
//   Unconditioned            the inner part's output h as it is
//   TimeConditioned          h * fc_t(t)
//   TimeClassConditioned<N>  h * fc_c(c) + fc_t(t), c one-hot over N classes (all zeros: no class)
// Each names its conditioner, the level member that holds the FC networks (detail::Conditioner, or
// detail::NoConditioner, which holds nothing); Conditions carries t and c down to every level.
#include <string>
#include <type_traits>

#include "../blocks/fc_block.hpp"
#include "../layers/modulate.hpp"
#include "../tensor.hpp"

namespace unetflow {

// A member that a model without some conditioning leaves out (it has no parameters).
struct Absent {
  template <class F>
  void visit(const std::string&, F&&) {}
};

// The values a UNet passes down to every level: the batch's time and class rows (empty where it takes none).
template <class T, int Classes>
struct Conditions {
  View<Vec<1>, const T> t;
  View<Vec<(Classes > 0 ? Classes : 1)>, const T> c;
};

namespace detail {

// stem + k + suffix ("d" 2 "." -> "d2."), built by appending (GCC 12 warns falsely on "d" + std::to_string(k)).
inline std::string numbered(const char* stem, int k, const char* suffix = "") {
  std::string s(stem);
  s += std::to_string(k);
  s += suffix;
  return s;
}

// The conditioner of an unconditioned level: nothing, no parameters.
struct NoConditioner {
  static constexpr bool active = false;
  template <class F>
  void visit_time(const std::string&, F&&, int) {}
  template <class F>
  void visit_class(const std::string&, F&&, int) {}
};

// The networks that condition a level's inner output h: Classes == 0: y = h * fc_t(t); Classes > 0:
// y = h * fc_c(c) + fc_t(t).
template <int C, int Classes, class B>
class Conditioner {
 public:
  using T = typename B::scalar;
  static constexpr bool active = true;

  FCBlock<1, C, B> fc_t;
  [[no_unique_address]] std::conditional_t<(Classes > 0), FCBlock<Classes, C, B>, Absent> fc_c;

  template <class S, class U, class Ctx>
  void forward(View<S, U> h, const Ctx& ctx, View<S, T> y) {
    auto tv = fc_t.forward(ctx.t);
    if constexpr (Classes > 0)
      modulate_.forward(h, fc_c.forward(ctx.c), tv, y);
    else
      modulate_.forward(h, tv, View<Vec<C>, T>{}, y);
  }
  // dL/dh (in this object's memory) given dy = dL/dy; the FC blocks take their parameters' gradients.
  template <class S, class U, class V, class Ctx>
  View<S, T> backward(View<S, U> h, View<S, V> dy, const Ctx& ctx) {
    using Vc = Vec<C>;
    auto dh = reserve_view<S>(g_h_, h.n);
    auto dscale = reserve_view<Vc>(g_scale_, h.n);
    if constexpr (Classes > 0) {
      auto dshift = reserve_view<Vc>(g_shift_, h.n);
      modulate_.backward(h, fc_c.output(), dy, dh, dscale, dshift);
      fc_c.backward(ctx.c, dscale, View<Vec<Classes>, T>{});
      fc_t.backward(ctx.t, dshift, View<Vec<1>, T>{});
    } else {
      modulate_.backward(h, fc_t.output(), dy, dh, dscale, View<Vc, T>{});
      fc_t.backward(ctx.t, dscale, View<Vec<1>, T>{});
    }
    return dh;
  }

  template <class F>
  void visit_time(const std::string& prefix, F&& f, int depth) {
    fc_t.visit(prefix + numbered("fc", depth, "_t."), f);
  }
  template <class F>
  void visit_class(const std::string& prefix, F&& f, int depth) {
    fc_c.visit(prefix + numbered("fc", depth, "_c."), f);
  }

 private:
  Modulate<B> modulate_;
  Storage<B> g_h_, g_scale_, g_shift_;
};

}  // namespace detail

// How a level is conditioned (a UNet's template argument), each naming its conditioner:
//   Unconditioned: not at all; TimeConditioned: by the time; TimeClassConditioned<N>: by the time and N classes.
struct Unconditioned {
  static constexpr bool time = false;
  static constexpr int classes = 0;
  template <int C, class B>
  using conditioner = detail::NoConditioner;
};
struct TimeConditioned {
  static constexpr bool time = true;
  static constexpr int classes = 0;
  template <int C, class B>
  using conditioner = detail::Conditioner<C, 0, B>;
};
template <int N>
struct TimeClassConditioned {
  static_assert(N > 0, "TimeClassConditioned: the class count must be positive");
  static constexpr bool time = true;
  static constexpr int classes = N;
  template <int C, class B>
  using conditioner = detail::Conditioner<C, N, B>;
};

}  // namespace unetflow
