#pragma once
// The assignment's UNets (docs/models.md) as one template; the three models are aliases of it:
//   UNet<Cin, H, W, D>                    y = net(x)
//   TimeUNet<Cin, H, W, D>                y = net(x, t)      t: Vec<1> in [0, 1]
//   ClassTimeUNet<Cin, H, W, D, N>        y = net(x, t, c)   c: one-hot Vec<N>, all zeros = no class
// Any square image whose side divides by 4 (two halvings): 28x28 as the assignment, 32x32 for CIFAR-sized data.
// Every intermediate shape below is derived at compile time; a wiring mistake fails to compile.
// Parameter names follow the PyTorch reference module (c0, d1, d2, unflat, u1, u2, c1, out, fc1_t, ...).
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../blocks/chain.hpp"
#include "../blocks/fc_block.hpp"
#include "../blocks/flatten.hpp"
#include "../layers/concat.hpp"
#include "../layers/modulate.hpp"
#include "../shape_name.hpp"

namespace unetflow {

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
};
}  // namespace detail

struct Absent {
  template <class F>
  void visit(const std::string&, F&&) {}
};

template <int Cin, int H, int W, int D, bool Time, int Classes, class B = cpu>
class UNetModel {
  static_assert(!(Classes > 0 && !Time), "UNetModel: class conditioning is only defined together with time conditioning");
  static_assert(detail::UNetSizes<H, W, 2>::ok);

 public:
  using backend = B;
  using T = typename B::scalar;
  static constexpr int hidden = D, classes = Classes;
  static constexpr bool time_conditioned = Time;

  using In = Shape<Cin, H, W>;
  using TimeIn = Vec<1>;
  using ClassIn = Vec<(Classes > 0 ? Classes : 1)>;

  ConvBlock<Cin, D, B> c0;
  DownBlock<D, D, B> d1;
  DownBlock<D, 2 * D, B> d2;
  Flatten<2 * D, B> flat;
  UnflattenTo<2 * D, H / 4, B> unflat;  // back to the bottleneck's side: 7 on 28x28 (the assignment's), 8 on 32x32
  UpBlock<4 * D, D, B> u1;
  UpBlock<2 * D, D, B> u2;
  ConvBlock<2 * D, D, B> c1;
  Conv2d<D, Cin, 3, 1, 1, B> out;
  [[no_unique_address]] std::conditional_t<Time, FCBlock<1, 2 * D, B>, Absent> fc1_t;
  [[no_unique_address]] std::conditional_t<Time, FCBlock<1, D, B>, Absent> fc2_t;
  [[no_unique_address]] std::conditional_t<(Classes > 0), FCBlock<Classes, 2 * D, B>, Absent> fc1_c;
  [[no_unique_address]] std::conditional_t<(Classes > 0), FCBlock<Classes, D, B>, Absent> fc2_c;

  // The shapes along the way, each derived from the one before.
  using X0 = typename decltype(c0)::template output_shape<In>;
  using X1 = typename decltype(d1)::template output_shape<X0>;
  using X2 = typename decltype(d2)::template output_shape<X1>;
  using Bottleneck = typename decltype(flat)::template output_shape<X2>;
  using Up0 = typename decltype(unflat)::template output_shape<Bottleneck>;
  using Cat1 = concat_t<X2, Up0>;
  using Up1 = typename decltype(u1)::template output_shape<Cat1>;
  using Cat2 = concat_t<X1, Up1>;
  using Up2 = typename decltype(u2)::template output_shape<Cat2>;
  using Cat3 = concat_t<X0, Up2>;
  using Hidden = typename decltype(c1)::template output_shape<Cat3>;
  static_assert(std::is_same_v<typename decltype(out)::template output_shape<Hidden>, In>,
                "UNet: the output shape must equal the input shape");
  using Out = In;  // (named plainly, so that diagnostics print the shape, not the derivation)

  // The module interface (module.hpp) for the unconditioned UNet, whose only input is x.
  template <class S>
  using output_shape = Out;
  template <class S>
  static constexpr bool accepts = std::is_same_v<S, In>;

  // Every input holds one row per sample: t and c have as many samples as x (checked; unetflow::Error if not).
  View<Out, T> forward(View<In, const T> x) requires(!Time) { return run(x, {}, {}); }
  View<Out, T> forward(View<In, const T> x, View<TimeIn, const T> t) requires(Time && Classes == 0) {
    return run(x, t, {});
  }
  View<Out, T> forward(View<In, const T> x, View<TimeIn, const T> t, View<ClassIn, const T> c)
    requires(Classes > 0) {
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
    const int n = x_.n;
    c1.recompute(hidden_);
    auto g_hidden = hidden_;
    out.backward(hidden_, dy, g_hidden);
    auto dcat3 = cat3_;
    c1.backward(cat3_, g_hidden, dcat3);
    auto [dx0, dup2] = split_channels<X0, Up2>(dcat3);
    auto dcat2 = cat2_;
    u2.backward(cat2_, dup2, dcat2);
    auto [dx1, dm2] = split_channels<X1, Up1>(dcat2);
    auto dup1 = condition_backward(up1_, dm2, fc2_t, fc2_c, g_up1_, g_scale2_, g_shift2_);
    auto dcat1 = cat1_;
    u1.backward(cat1_, dup1, dcat1);
    auto [dx2, dm1] = split_channels<X2, Up0>(dcat1);
    auto dup0 = condition_backward(up0_, dm1, fc1_t, fc1_c, g_up0_, g_scale1_, g_shift1_);
    auto dbottleneck = reserve_view<Bottleneck>(g_bottleneck_, n);
    unflat.backward(bottleneck_, dup0, dbottleneck);
    flat.backward(x2_, dbottleneck, dx2, true);
    d2.backward(x1_, dx2, dx1, true);
    d1.backward(x0_, dx1, dx0, true);
    c0.backward(x_, dx0, dx, accumulate);
  }
  // The module interface's form: x must be the last forward's input.
  void backward(View<In, const T> x, View<Out, T> dy, View<In, T> dx, bool accumulate = false) requires(!Time) {
    if (saved_ && (x.data != x_.data || x.n != x_.n))
      throw Error("UNet::backward: x is not the input of the last forward.");
    backward(View<Out, const T>(dy), dx, accumulate);
  }

  // Each child's output shape, for summary().
  static std::vector<std::pair<std::string, std::string>> output_shapes() {
    return {{"c0", shape_name<X0>()}, {"d1", shape_name<X1>()}, {"d2", shape_name<X2>()},
            {"unflat", shape_name<Up0>()}, {"u1", shape_name<Up1>()}, {"u2", shape_name<Up2>()},
            {"c1", shape_name<Hidden>()}, {"out", shape_name<Out>()}};
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    c0.visit(prefix + "c0.", f);
    d1.visit(prefix + "d1.", f);
    d2.visit(prefix + "d2.", f);
    unflat.visit(prefix + "unflat.", f);
    u1.visit(prefix + "u1.", f);
    u2.visit(prefix + "u2.", f);
    c1.visit(prefix + "c1.", f);
    out.visit(prefix + "out.", f);
    fc1_t.visit(prefix + "fc1_t.", f);
    fc2_t.visit(prefix + "fc2_t.", f);
    fc1_c.visit(prefix + "fc1_c.", f);
    fc2_c.visit(prefix + "fc2_c.", f);
  }

 private:
  static void check_batch(const char* what, int n, int expected) {
    if (n != expected)
      throw Error(std::string(what) + " holds " + std::to_string(n) + " samples but x holds " +
                  std::to_string(expected) + "; every input needs one row per sample.");
  }

  View<Out, T> run(View<In, const T> x, View<TimeIn, const T> t, View<ClassIn, const T> c) {
    if constexpr (Time) check_batch("UNet::forward: t", t.n, x.n);
    if constexpr (Classes > 0) check_batch("UNet::forward: c", c.n, x.n);
    const int n = x.n;
    x_ = x;
    t_ = t;
    c_ = c;
    x0_ = c0.forward(x);
    x1_ = d1.forward(x0_);
    x2_ = d2.forward(x1_);
    bottleneck_ = flat.forward(x2_);
    up0_ = unflat.forward(bottleneck_);
    cat1_ = cat1.forward(x2_, condition(up0_, fc1_t, fc1_c, m1_));
    up1_ = u1.forward(cat1_);
    cat2_ = cat2.forward(x1_, condition(up1_, fc2_t, fc2_c, m2_));
    auto [joined, up2] = cat3.template forward_first<Up2>(x0_);
    u2.forward(cat2_, up2);  // straight into its channels of the concatenation
    cat3_ = joined;
    hidden_ = c1.forward(cat3_, hidden_scratch(n));
    auto y = reserve_view<Out>(y_, n);
    out.forward(hidden_, y);
    saved_ = true;
    return y;
  }

  // c1's output is recomputed rather than kept: it lives in the scratch of the depth-2 chains (d1, d2, u1, u2),
  // which nothing else uses while c1 and out run, forward or backward.
  static View<Hidden, T> hidden_scratch(int n) {
    constexpr int slot = decltype(u2)::chain_depth - 1;
    static_assert(slot > decltype(c1)::chain_depth - 1, "UNet: c1's output needs a scratch slot c1 does not use");
    return {B::activation_scratch(slot, std::ptrdiff_t(n) * Hidden::size), n};
  }

  // Time only: h * fc_t(t). Time and class: h * fc_c(c) + fc_t(t). Neither: h unchanged.
  template <class S, class FT, class FC>
  View<S, T> condition(View<S, T> h, FT& fc_t, FC& fc_c, Storage<B>& buffer) {
    if constexpr (!Time) {
      return h;
    } else {
      auto y = reserve_view<S>(buffer, h.n);
      auto tv = fc_t.forward(t_);
      if constexpr (Classes > 0) modulate.forward(h, fc_c.forward(c_), tv, y);
      else modulate.forward(h, tv, View<Vec<S::C>, T>{}, y);
      return y;
    }
  }
  // The gradient of h given dy, the gradient of condition(h): dy itself without conditioning.
  template <class S, class FT, class FC>
  View<S, T> condition_backward(View<S, T> h, View<S, T> dy, FT& fc_t, FC& fc_c, Storage<B>& g_h, Storage<B>& g_scale,
                                Storage<B>& g_shift) {
    if constexpr (!Time) {
      return dy;
    } else {
      using V = Vec<S::C>;
      auto dh = reserve_view<S>(g_h, h.n);
      auto dscale = reserve_view<V>(g_scale, h.n);
      if constexpr (Classes > 0) {
        auto dshift = reserve_view<V>(g_shift, h.n);
        View<V, T> scale = fc_c.output();
        modulate.backward(h, scale, dy, dh, dscale, dshift);
        fc_c.backward(c_, dscale, View<ClassIn, T>{});
        fc_t.backward(t_, dshift, View<TimeIn, T>{});
      } else {
        View<V, T> scale = fc_t.output();
        modulate.backward(h, scale, dy, dh, dscale, View<V, T>{});
        fc_t.backward(t_, dscale, View<TimeIn, T>{});
      }
      return dh;
    }
  }

  Concat<B> cat1, cat2, cat3;
  Modulate<B> modulate;
  Storage<B> m1_, m2_, y_;
  Storage<B> g_up1_, g_up0_, g_bottleneck_;
  Storage<B> g_scale1_, g_shift1_, g_scale2_, g_shift2_;

  View<In, const T> x_;
  View<TimeIn, const T> t_;
  View<ClassIn, const T> c_;
  View<X0, T> x0_;
  View<X1, T> x1_;
  View<X2, T> x2_;
  View<Bottleneck, T> bottleneck_;
  View<Up0, T> up0_;
  View<Cat1, T> cat1_;
  View<Up1, T> up1_;
  View<Cat2, T> cat2_;
  View<Cat3, T> cat3_;
  View<Hidden, T> hidden_;
  bool saved_ = false;
};

template <int Cin, int H, int W, int D, class B = cpu>
using UNet = UNetModel<Cin, H, W, D, false, 0, B>;
template <int Cin, int H, int W, int D, class B = cpu>
using TimeUNet = UNetModel<Cin, H, W, D, true, 0, B>;
template <int Cin, int H, int W, int D, int Classes, class B = cpu>
using ClassTimeUNet = UNetModel<Cin, H, W, D, true, Classes, B>;

}  // namespace unetflow
