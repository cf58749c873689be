#pragma once
// One resolution of a UNet (leveled_unet.hpp puts levels together):
//   UNetLevel<Down, Inner, Up, Conditioning>     d = down(x);  y = up(concat(d, condition(inner(d))))
//   UNetBottleneck<C, K>                          the assignment's middle: flat (K x K -> 1) then unflat (1 -> K x K)
// Inner is the next level down, a UNetBottleneck, or any module (module.hpp) as the middle of the U. Down and Up are
// modules: blocks, Sequentials of them, a user's own. Conditioning (conditioning.hpp) says how the inner part's
// output is conditioned before the skip concatenation. Forward, backward, visit and every shape are derived from the
// composition; a wiring mistake fails to compile.
//
// State names, the assignment's at any depth: the outermost level's down and up modules are c0 and c1; level k
// below it has d{k} and u{depth}, where depth counts from the bottom (1 = the level around the middle), and its
// conditioning fc{depth}_t, fc{depth}_c; the bottleneck has unflat, a module in the middle is "mid", the head "out".
#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../blocks/conv_bn_act.hpp"
#include "../blocks/flatten.hpp"
#include "../error.hpp"
#include "../layers/concat.hpp"
#include "../module.hpp"
#include "../shape_name.hpp"
#include "conditioning.hpp"

namespace unetflow {

// Each named part's output shape (name, shape), for summary().
using ShapeRows = std::vector<std::pair<std::string, std::string>>;

namespace detail {

// A level or bottleneck (it takes the conditions and names its parts by level), as opposed to a plain module.
template <class M>
concept UNetPart = requires {
  M::unet_depth;
};

template <class M>
constexpr int out_channels_of() {
  static_assert(
      requires { M::out_channels; },
      "UNetLevel: the inner part must state its out_channels (blocks, levels and Sequentials of them do)");
  return M::out_channels;
}

// Modules whose backward takes a strided dy and may write dx over x (the convolution blocks).
template <class M>
concept InPlaceBackward = requires {
  M::chain_depth;
};

}  // namespace detail

template <int C, int K, class B = cpu>
class UNetBottleneck {
 public:
  using backend = B;
  using T = typename B::scalar;
  static constexpr int unet_depth = 0, out_channels = C;
  static constexpr bool time = false;
  static constexpr int classes = 0;
  template <class In>
  using output_shape = Shape<C, K, K>;

  Flatten<C, B> flat;
  UnflattenTo<C, K, B> unflat;

  template <class In, class U, class Ctx>
  void forward(View<In, U> x, const Ctx&, View<output_shape<In>, T> y) {
    static_assert(In::H == K && In::W == K,
                  "UNetBottleneck: K must be the side of the map it flattens (the deepest level's output)");
    b_ = flat.forward(x);
    unflat.forward(b_, y);
  }
  template <class In, class U, class V, class Ctx>
  void backward(View<In, U> x, View<output_shape<In>, V> dy, View<In, T> dx, bool accumulate, const Ctx&) {
    auto db = reserve_view<Vec<C>>(g_, x.n);
    unflat.backward(b_, dy, db);
    flat.backward(x, db, dx, accumulate);
  }

  template <class F>
  void visit_blocks(const std::string& prefix, F&& f, int) {
    flat.visit(prefix + "flat.", f);
    unflat.visit(prefix + "unflat.", f);
  }
  template <class F>
  void visit_time(const std::string&, F&&) {}
  template <class F>
  void visit_class(const std::string&, F&&) {}
  template <class In>
  static void shapes(ShapeRows& rows, int) {
    rows.push_back({"flat", shape_name<Vec<C>>()});
    rows.push_back({"unflat", shape_name<Shape<C, K, K>>()});
  }

 private:
  View<Vec<C>, T> b_;
  Storage<B> g_;
};

template <class Down, class Inner, class Up, class Conditioning = Unconditioned>
class UNetLevel {
 public:
  using backend = typename Down::backend;
  using B = backend;
  using T = typename B::scalar;
  using down_type = Down;
  using inner_type = Inner;
  using up_type = Up;
  static_assert(std::is_same_v<typename Up::backend, B> && std::is_same_v<typename Inner::backend, B>,
                "UNetLevel: the down, inner and up parts must compute on the same backend");

  static constexpr int unet_depth = [] {
    if constexpr (detail::UNetPart<Inner>)
      return Inner::unet_depth + 1;
    else
      return 1;
  }();
  static constexpr int out_channels = Up::out_channels, inner_channels = detail::out_channels_of<Inner>();
  static constexpr int inner_classes = [] {
    if constexpr (detail::UNetPart<Inner>)
      return Inner::classes;
    else
      return 0;
  }();
  static_assert(inner_classes == 0 || Conditioning::classes == 0 || inner_classes == Conditioning::classes,
                "UNetLevel: every class-conditioned level of a UNet must take the same class count");
  static constexpr int classes = std::max(inner_classes, Conditioning::classes);
  static constexpr bool time = [] {
    if constexpr (detail::UNetPart<Inner>)
      return Inner::time || Conditioning::time;
    else
      return Conditioning::time;
  }();

  template <class In>
  using down_shape = typename Down::template output_shape<In>;
  template <class In>
  using inner_shape = typename Inner::template output_shape<down_shape<In>>;
  template <class In>
  using cat_shape = concat_t<down_shape<In>, inner_shape<In>>;
  template <class In>
  using output_shape = typename Up::template output_shape<cat_shape<In>>;

  Down down;
  Inner inner;
  Up up;
  [[no_unique_address]] typename Conditioning::template conditioner<inner_channels, B> cond;

  // y: where the up module's output goes (the caller's memory, a strided view allowed: the parent's concatenation).
  template <class In, class U, class Ctx>
  View<output_shape<In>, T> forward(View<In, U> x, const Ctx& ctx, View<output_shape<In>, T> y) {
    using D = down_shape<In>;
    using I = inner_shape<In>;
    using Cat = cat_shape<In>;
    static_assert(module_accepts<Down, In>(), "UNetLevel: the down module does not take the level's input");
    static_assert(module_accepts<Up, Cat>(),
                  "UNetLevel: the up module must take the down module's output and the inner part's, concatenated");
    View<D, T> d = down.forward(View<In, const T>{x.data, x.n, x.stride});
    d_ = d.data;
    d_stride_ = d.stride;
    n_ = x.n;
    auto [cat, slot] = concat_.template forward_first<I>(d);
    cat_ = cat.data;
    if constexpr (decltype(cond)::active) {
      auto h = reserve_view<I>(h_, n_);
      inner_forward(d, ctx, h);
      cond.forward(h, ctx, slot);
    } else {
      inner_forward(d, ctx, slot);
    }
    using CatView = decltype(cat);  // clang 14 refuses a structured binding named inside a requires-expression
    if constexpr (requires(CatView c) { up.forward(c, y); }) {
      up.forward(cat, y);
    } else {
      auto u = up.forward(View<Cat, const T>(cat));
      B::copy_rows(View<output_shape<In>, const T>(u).rows(), y.rows(), n_, output_shape<In>::size);
    }
    return y;
  }
  // The last forward's output again, where the up module can recompute it (a convolution block).
  template <class Out>
  void recompute(View<Out, T> y) const {
    up.recompute(y);
  }

  // dy = dL/dy (overwritten); dx = dL/dx, or += with accumulate, or nothing when empty; ctx as in the forward.
  template <class In, class U, class Ctx>
  void backward(View<In, U> x, View<output_shape<In>, T> dy, View<In, T> dx, bool accumulate, const Ctx& ctx) {
    using D = down_shape<In>;
    using I = inner_shape<In>;
    using Cat = cat_shape<In>;
    if (x.n != n_)
      throw Error("UNetLevel::backward: x holds " + std::to_string(x.n) + " samples, the forward had " +
                  std::to_string(n_) + ".");
    View<Cat, T> cat{cat_, n_};
    if constexpr (detail::InPlaceBackward<Up>) {
      up.backward(cat, dy, cat);  // the concatenation is dead once up has its gradients: its gradient goes there
    } else {
      auto dcat = reserve_view<Cat>(g_cat_, n_);
      up.backward(View<Cat, const T>(cat), contiguous<Up>(dy, g_up_), dcat);
      cat = dcat;
    }
    auto [dd, dslot] = split_channels<D, I>(cat);
    View<D, T> d{d_, n_, d_stride_};
    if constexpr (decltype(cond)::active) {
      auto dh = cond.backward(View<I, const T>{h_.data(), n_}, dslot, ctx);
      inner_backward(d, dh, dd, ctx);
    } else {
      inner_backward(d, dslot, dd, ctx);
    }
    down.backward(View<In, const T>{x.data, x.n, x.stride}, contiguous<Down>(dd, g_down_), dx, accumulate);
  }

  template <class F>
  void visit_blocks(const std::string& prefix, F&& f, int k) {
    down.visit(prefix + down_name(k) + ".", f);
    if constexpr (detail::UNetPart<Inner>)
      inner.visit_blocks(prefix, f, k + 1);
    else
      inner.visit(prefix + "mid.", f);
    up.visit(prefix + up_name(k) + ".", f);
  }
  // The conditioning networks, deepest first: all the time ones, then all the class ones.
  template <class F>
  void visit_time(const std::string& prefix, F&& f) {
    if constexpr (detail::UNetPart<Inner>) inner.visit_time(prefix, f);
    cond.visit_time(prefix, f, unet_depth);
  }
  template <class F>
  void visit_class(const std::string& prefix, F&& f) {
    if constexpr (detail::UNetPart<Inner>) inner.visit_class(prefix, f);
    cond.visit_class(prefix, f, unet_depth);
  }
  // Each named part's output shape for input shape In, outermost down first (summary()).
  template <class In>
  static void shapes(ShapeRows& rows, int k) {
    rows.push_back({down_name(k), shape_name<down_shape<In>>()});
    if constexpr (detail::UNetPart<Inner>)
      Inner::template shapes<down_shape<In>>(rows, k + 1);
    else
      rows.push_back({"mid", shape_name<inner_shape<In>>()});
    rows.push_back({up_name(k), shape_name<output_shape<In>>()});
  }

 private:
  static std::string down_name(int k) { return k == 0 ? "c0" : detail::numbered("d", k); }
  static std::string up_name(int k) { return k == 0 ? "c1" : detail::numbered("u", unet_depth); }

  template <class D, class I, class Ctx>
  void inner_forward(View<D, T> d, const Ctx& ctx, View<I, T> y) {
    if constexpr (detail::UNetPart<Inner>) {
      inner.forward(d, ctx, y);
    } else {
      auto o = inner.forward(View<D, const T>(d));
      B::copy_rows(View<I, const T>(o).rows(), y.rows(), d.n, I::size);
    }
  }
  // dd += dL/dd through the inner part, given dy = its output's gradient.
  template <class D, class I, class Ctx>
  void inner_backward(View<D, T> d, View<I, T> dy, View<D, T> dd, const Ctx& ctx) {
    if constexpr (detail::UNetPart<Inner>) {
      inner.backward(d, dy, dd, true, ctx);
    } else {
      auto g = reserve_view<D>(g_inner_, d.n);
      inner.backward(View<D, const T>(d), contiguous<Inner>(dy, g_up_), g, false);
      B::add_rows(View<D, const T>(g).rows(), dd.rows(), d.n, D::size);
    }
  }
  // v itself for the convolution blocks (they take strided gradients); a contiguous copy for any other module.
  template <class M, class S>
  static View<S, T> contiguous(View<S, T> v, Storage<B>& room) {
    if constexpr (detail::InPlaceBackward<M>) {
      return v;
    } else {
      if (v.contiguous()) return v;
      auto c = reserve_view<S>(room, v.n);
      B::copy_rows(View<S, const T>(v).rows(), c.rows(), v.n, S::size);
      return c;
    }
  }

  Concat<B> concat_;
  Storage<B> h_, g_cat_, g_up_, g_down_, g_inner_;
  T* d_ = nullptr;
  std::ptrdiff_t d_stride_ = 0;
  T* cat_ = nullptr;
  int n_ = 0;
};

}  // namespace unetflow
