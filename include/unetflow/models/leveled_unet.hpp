#pragma once
// LeveledUNet<In, Top, Head>: y = head(top(x)), top the outermost UNet level (unet_level.hpp). The models of
// unet.hpp and res_unet.hpp are LeveledUNets; this class is what runs them: the inputs (x, and t, c where the levels
// are conditioned), the batch checks, the saved activations and the visiting order of the state.
#include <string>
#include <type_traits>

#include "../error.hpp"
#include "../module.hpp"
#include "../shape_name.hpp"
#include "unet_level.hpp"

namespace unetflow {

template <class InShape, class Top, class Head>
class LeveledUNet {
 public:
  using backend = typename Top::backend;
  using B = backend;
  using T = typename B::scalar;
  static constexpr int classes = Top::classes;
  static constexpr bool time_conditioned = Top::time;
  static_assert(!(classes > 0 && !time_conditioned),
                "UNet: class conditioning is only defined together with time conditioning");

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
  View<Out, T> forward(View<In, const T> x) requires(!time_conditioned) { return run(x, {}, {}); }
  View<Out, T> forward(View<In, const T> x, View<TimeIn, const T> t) requires(time_conditioned&& classes == 0) {
    return run(x, t, {});
  }
  View<Out, T> forward(View<In, const T> x, View<TimeIn, const T> t, View<ClassIn, const T> c) requires(classes > 0) {
    return run(x, t, c);
  }

  // Gradients of every parameter for the last forward, given dL/dy; dx receives dL/dx (dx += dL/dx with
  // accumulate) when it is given. Backward consumes what the forward saved (each activation's buffer takes its
  // gradient once it has been read), so every backward needs a forward of its own, as in PyTorch.
  void backward(View<Out, const T> dy, View<In, T> dx = {}, bool accumulate = false) {
    if (!saved_)
      throw Error("UNet::backward: no forward to go back through (each backward needs a forward of its own).");
    check_batch("UNet::backward: dy", dy.n, x_.n);
    if (dx) check_batch("UNet::backward: dx", dx.n, x_.n);
    saved_ = false;
    if constexpr (recomputes_hidden) top.recompute(hidden_);
    auto g_hidden = hidden_;  // the head's input gradient overwrites its input
    out.backward(hidden_, dy, g_hidden);
    top.backward(x_, g_hidden, dx, accumulate, ctx_);
  }
  // The module interface's form: x must be the last forward's input.
  void backward(View<In, const T> x, View<Out, T> dy, View<In, T> dx,
                bool accumulate = false) requires(!time_conditioned) {
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
    if constexpr (time_conditioned) check_batch("UNet::forward: t", t.n, x.n);
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
