#pragma once
// UNets composed from levels; each level is one resolution of the U:
//   UNetLevel<Down, Inner, Up, Conditioning>     d = down(x);  y = up(concat(d, condition(inner(d))))
//   UNetBottleneck<C, K>                          the assignment's middle: flat (K x K -> 1) then unflat (1 -> K x K)
//   LeveledUNet<In, Top, Head>                    y = head(top(x)), top the outermost level
// Inner is the next level down, a UNetBottleneck, or any module (module.hpp) as the middle of the U. Down, Up and
// Head are modules: blocks, Sequentials of them, a user's own. Conditioning says how the inner part's output is
// conditioned before the skip concatenation: Unconditioned; TimeConditioned, h * fc_t(t);
// TimeClassConditioned<N>, h * fc_c(c) + fc_t(t) with c one-hot over N classes (all zeros: no class).
// Forward, backward, visit and every shape are derived from the composition; a wiring mistake fails to compile.
//
// State names, the assignment's at any depth: the outermost level's down and up modules are c0 and c1; level k
// below it has d{k} and u{depth}, where depth counts from the bottom (1 = the level around the middle), and its
// conditioning fc{depth}_t, fc{depth}_c; the bottleneck has unflat, a module in the middle is "mid", the head "out".
#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../blocks/fc_block.hpp"
#include "../blocks/flatten.hpp"
#include "../blocks/conv_bn_gelu.hpp"
#include "../error.hpp"
#include "../layers/concat.hpp"
#include "../layers/modulate.hpp"
#include "../module.hpp"
#include "../shape_name.hpp"

namespace unetflow {

// A member that a model without some conditioning leaves out (it has no parameters).
struct Absent {
  template <class F>
  void visit(const std::string&, F&&) {}
};

// What reaches every level: the batch's time and class rows (empty where the model takes none).
template <class T, int Classes>
struct Conditions {
  View<Vec<1>, const T> t;
  View<Vec<(Classes > 0 ? Classes : 1)>, const T> c;
};

using ShapeRows = std::vector<std::pair<std::string, std::string>>;

namespace detail {

// stem + k + suffix ("d" 2 "." -> "d2."), built by appending (GCC 12 warns falsely on "d" + std::to_string(k)).
inline std::string numbered(const char* stem, int k, const char* suffix = "") {
  std::string s(stem);
  s += std::to_string(k);
  s += suffix;
  return s;
}

struct NoConditioner {
  static constexpr bool active = false;
  template <class F>
  void visit_time(const std::string&, F&&, int) {}
  template <class F>
  void visit_class(const std::string&, F&&, int) {}
};

// Classes == 0: y = h * fc_t(t). Classes > 0: y = h * fc_c(c) + fc_t(t).
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
    if constexpr (Classes > 0) modulate_.forward(h, fc_c.forward(ctx.c), tv, y);
    else modulate_.forward(h, tv, View<Vec<C>, T>{}, y);
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

// A level or bottleneck (it takes the conditions and names its parts by level), as opposed to a plain module.
template <class M>
concept UNetPart = requires { M::unet_depth; };

template <class M>
constexpr int out_channels_of() {
  static_assert(requires { M::out_channels; },
                "UNetLevel: the inner part must state its out_channels (blocks, levels and Sequentials of them do)");
  return M::out_channels;
}

// Modules whose backward takes a strided dy and may write dx over x (the convolution blocks).
template <class M>
concept InPlaceBackward = requires { M::chain_depth; };

}  // namespace detail

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
    if constexpr (detail::UNetPart<Inner>) return Inner::unet_depth + 1;
    else return 1;
  }();
  static constexpr int out_channels = Up::out_channels, inner_channels = detail::out_channels_of<Inner>();
  static constexpr int inner_classes = [] {
    if constexpr (detail::UNetPart<Inner>) return Inner::classes;
    else return 0;
  }();
  static_assert(inner_classes == 0 || Conditioning::classes == 0 || inner_classes == Conditioning::classes,
                "UNetLevel: every class-conditioned level of a UNet must take the same class count");
  static constexpr int classes = std::max(inner_classes, Conditioning::classes);
  static constexpr bool time = [] {
    if constexpr (detail::UNetPart<Inner>) return Inner::time || Conditioning::time;
    else return Conditioning::time;
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
    if (x.n != n_) throw Error("UNetLevel::backward: x holds " + std::to_string(x.n) + " samples, the forward had " +
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
    if constexpr (detail::UNetPart<Inner>) inner.visit_blocks(prefix, f, k + 1);
    else inner.visit(prefix + "mid.", f);
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
    if constexpr (detail::UNetPart<Inner>) Inner::template shapes<down_shape<In>>(rows, k + 1);
    else rows.push_back({"mid", shape_name<inner_shape<In>>()});
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

template <class InShape, class Top, class Head>
class LeveledUNet {
 public:
  using backend = typename Top::backend;
  using B = backend;
  using T = typename B::scalar;
  static constexpr int classes = Top::classes;
  static constexpr bool time_conditioned = Top::time;
  static constexpr bool Time = time_conditioned;
  static_assert(!(classes > 0 && !Time), "UNet: class conditioning is only defined together with time conditioning");

  using In = InShape;
  using top_type = Top;
  using TimeIn = Vec<1>;
  using ClassIn = Vec<(classes > 0 ? classes : 1)>;
  using Hidden = typename Top::template output_shape<In>;
  static_assert(std::is_same_v<typename Head::template output_shape<Hidden>, In>,
                "UNet: the output shape must equal the input shape");
  using Out = In;  // (named plainly, so that diagnostics print the shape, not the derivation)

  // The module interface (module.hpp) for an unconditioned UNet, whose only input is x.
  template <class S>
  using output_shape = Out;
  template <class S>
  static constexpr bool accepts = std::is_same_v<S, In>;

  Top top;
  Head out;

  // Every input holds one row per sample: t and c have as many samples as x (checked; unetflow::Error if not).
  View<Out, T> forward(View<In, const T> x) requires(!Time) { return run(x, {}, {}); }
  View<Out, T> forward(View<In, const T> x, View<TimeIn, const T> t) requires(Time && classes == 0) {
    return run(x, t, {});
  }
  View<Out, T> forward(View<In, const T> x, View<TimeIn, const T> t, View<ClassIn, const T> c)
    requires(classes > 0) {
    return run(x, t, c);
  }

  // Gradients of every parameter for the last forward, given dL/dy; dx receives dL/dx (dx += dL/dx with
  // accumulate) when it is given. Backward consumes what the forward saved (each activation's buffer takes its
  // gradient once it has been read), so every backward needs a forward of its own, as in PyTorch.
  void backward(View<Out, const T> dy, View<In, T> dx = {}, bool accumulate = false) {
    if (!saved_) throw Error("UNet::backward: no forward to go back through (each backward needs a forward of its own).");
    check_batch("UNet::backward: dy", dy.n, x_.n);
    if (dx) check_batch("UNet::backward: dx", dx.n, x_.n);
    saved_ = false;
    if constexpr (recomputes_hidden) top.recompute(hidden_);
    auto g_hidden = hidden_;  // the head's input gradient overwrites its input
    out.backward(hidden_, dy, g_hidden);
    top.backward(x_, g_hidden, dx, accumulate, ctx_);
  }
  // The module interface's form: x must be the last forward's input.
  void backward(View<In, const T> x, View<Out, T> dy, View<In, T> dx, bool accumulate = false) requires(!Time) {
    if (saved_ && (x.data != x_.data || x.n != x_.n))
      throw Error("UNet::backward: x is not the input of the last forward.");
    backward(View<Out, const T>(dy), dx, accumulate);
  }

  // Each named part's output shape, for summary().
  static ShapeRows output_shapes() {
    ShapeRows rows;
    Top::template shapes<In>(rows, 0);
    rows.push_back({"out", shape_name<Out>()});
    return rows;
  }

  // The blocks from the outside in and back out, the head, then the conditioning networks (time, then class).
  template <class F>
  void visit(const std::string& prefix, F&& f) {
    top.visit_blocks(prefix, f, 0);
    out.visit(prefix + "out.", f);
    top.visit_time(prefix, f);
    top.visit_class(prefix, f);
  }

 private:
  // The top's output is the head's input only: where the top's up module is a convolution block, it lives in the
  // activation scratch one depth above that block's own (free while the head runs) and backward recomputes it.
  static constexpr bool recomputes_hidden = detail::InPlaceBackward<typename Top::up_type>;

  static void check_batch(const char* what, int n, int expected) {
    if (n != expected)
      throw Error(std::string(what) + " holds " + std::to_string(n) + " samples but x holds " +
                  std::to_string(expected) + "; every input needs one row per sample.");
  }

  View<Hidden, T> hidden_room(int n) {
    if constexpr (recomputes_hidden) {
      constexpr int slot = Top::up_type::chain_depth;
      return {B::activation_scratch(slot, std::ptrdiff_t(n) * Hidden::size), n};
    } else {
      return reserve_view<Hidden>(hidden_store_, n);
    }
  }

  View<Out, T> run(View<In, const T> x, View<TimeIn, const T> t, View<ClassIn, const T> c) {
    if constexpr (Time) check_batch("UNet::forward: t", t.n, x.n);
    if constexpr (classes > 0) check_batch("UNet::forward: c", c.n, x.n);
    x_ = x;
    ctx_ = {t, c};
    hidden_ = top.forward(x, ctx_, hidden_room(x.n));
    auto y = reserve_view<Out>(y_, x.n);
    out.forward(hidden_, y);
    saved_ = true;
    return y;
  }

  Storage<B> y_, hidden_store_;
  View<In, const T> x_;
  Conditions<T, classes> ctx_;
  View<Hidden, T> hidden_;
  bool saved_ = false;
};

}  // namespace unetflow
