#pragma once
// ResBlock<Cin, Cout>: a residual block as in the DDPM/ADM UNets, built from the library's layers:
//   y = b(a(x) [* scale + shift]) + skip(x)
// a = Conv(Cin, Cout), b = Conv(Cout, Cout) (each Conv2d 3x3 -> BatchNorm2d -> Act, GELU by default), skip = a 1x1
// Conv2d projection when Cin != Cout, the identity otherwise. The optional modulation takes one scale and shift per
// channel and sample (time or class conditioning, from an FCBlock), between the two convolutions.
//   forward(x)                                   the module interface (module.hpp)
//   forward(x, scale, shift)                      modulated (shift may be empty)
//   backward(x, dy, dx, accumulate)               after either forward; dy is overwritten
//   backward(x, dy, dx, accumulate, dscale, dshift)   after a modulated forward: dscale, dshift = their gradients
// State names as a PyTorch module with members a, b (nn.Sequential(Conv2d, BatchNorm2d, GELU)) and proj (Conv2d).
#include <string>
#include <type_traits>

#include "../error.hpp"
#include "../layers/modulate.hpp"
#include "conv_bn_act.hpp"

namespace unetflow {

namespace detail {
struct IdentitySkip {
  template <class F>
  void visit(const std::string&, F&&) {}
};
}  // namespace detail

template <int Cin, int Cout, class B = cpu, template <class> class Act = GELU>
class ResBlock {
 public:
  using backend = B;
  using T = typename B::scalar;
  static constexpr int in_channels = Cin, out_channels = Cout;
  static constexpr bool projects = Cin != Cout;
  template <class In>
  using output_shape = Shape<Cout, In::H, In::W>;
  template <class In>
  static constexpr bool accepts = In::C == Cin;

  Conv<Cin, Cout, B, Act> a;
  Conv<Cout, Cout, B, Act> b;
  [[no_unique_address]] std::conditional_t<projects, Conv2d<Cin, Cout, 1, 1, 0, B>, detail::IdentitySkip> proj;

  template <class In, class U>
  View<output_shape<In>, T> forward(View<In, U> x) {
    modulated_ = false;
    auto h = a.forward(x);
    a_output_ = h.data;
    return run(x, h);
  }
  template <class In, class U, class V>
  View<output_shape<In>, T> forward(View<In, U> x, View<Vec<Cout>, V> scale, View<Vec<Cout>, V> shift) {
    using Mid = output_shape<In>;
    if (scale.n != x.n || (shift && shift.n != x.n))
      throw Error("ResBlock::forward: scale and shift need one row per sample of x (" + std::to_string(x.n) + ").");
    auto h = a.forward(x);
    a_output_ = h.data;
    auto m = reserve_view<Mid>(modulated_store_, x.n);
    modulate_.forward(h, scale, shift, m);
    modulated_ = true;
    scale_ = {scale.data, scale.n, scale.stride};
    has_shift_ = bool(shift);
    return run(x, m);
  }

  template <class In, class U, class V>
  void backward(View<In, U> x, View<output_shape<In>, V> dy, View<In, T> dx, bool accumulate = false) {
    if (modulated_)
      throw Error("ResBlock::backward: the last forward was modulated; pass dscale and dshift to backward.");
    backward_impl(x, dy, dx, accumulate, View<Vec<Cout>, T>{}, View<Vec<Cout>, T>{});
  }
  template <class In, class U, class V>
  void backward(View<In, U> x, View<output_shape<In>, V> dy, View<In, T> dx, bool accumulate, View<Vec<Cout>, T> dscale,
                View<Vec<Cout>, T> dshift) {
    if (!modulated_) throw Error("ResBlock::backward: the last forward was not modulated; it has no dscale or dshift.");
    if (dscale.n != x.n || (has_shift_ && dshift.n != x.n))
      throw Error("ResBlock::backward: dscale and dshift need one row per sample of x (" + std::to_string(x.n) + ").");
    backward_impl(x, dy, dx, accumulate, dscale, has_shift_ ? dshift : View<Vec<Cout>, T>{});
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    a.visit(prefix + "a.", f);
    b.visit(prefix + "b.", f);
    proj.visit(prefix + "proj.", f);
  }

 private:
  // y = b(h) + skip(x)
  template <class In, class U>
  View<output_shape<In>, T> run(View<In, U> x, View<output_shape<In>, T> h) {
    using Out = output_shape<In>;
    static_assert(In::C == Cin, "ResBlock: the input's channel count differs from the block's Cin");
    n_ = x.n;
    b_input_ = h.data;
    auto y = reserve_view<Out>(out_, x.n);
    if constexpr (projects)
      proj.forward(x, y);
    else
      B::copy_rows(x.rows(), y.rows(), x.n, In::size);
    auto main = b.forward(h);
    B::add_rows(View<Out, const T>(main).rows(), y.rows(), x.n, Out::size);
    return y;
  }

  template <class In, class U, class V>
  void backward_impl(View<In, U> x, View<output_shape<In>, V> dy, View<In, T> dx, bool accumulate,
                     View<Vec<Cout>, T> dscale, View<Vec<Cout>, T> dshift) {
    using Mid = output_shape<In>;
    if (x.n != n_ || dy.n != n_ || (dx && dx.n != n_))
      throw Error("ResBlock::backward: x, dy and dx must hold the last forward's " + std::to_string(n_) + " samples.");
    // The skip path first: b's backward overwrites dy.
    if constexpr (projects) {
      proj.backward(x, dy, dx, accumulate);
    } else if (dx) {
      if (accumulate)
        B::add_rows(View<Mid, const T>{dy.data, dy.n, dy.stride}.rows(), dx.rows(), n_, Mid::size);
      else
        B::copy_rows(View<Mid, const T>{dy.data, dy.n, dy.stride}.rows(), dx.rows(), n_, Mid::size);
    }
    auto g = reserve_view<Mid>(gradient_, n_);
    b.backward(View<Mid, const T>{b_input_, n_}, dy, g);
    auto ga = g;
    if (modulated_) {
      ga = reserve_view<Mid>(modulated_gradient_, n_);
      View<Mid, const T> h{a_output_, n_};
      modulate_.backward(h, View<Vec<Cout>, const T>(scale_), g, ga, dscale, dshift);
    }
    // dx already holds the skip path's share (unless it is empty): a's adds to it.
    a.backward(x, ga, dx, bool(dx));
  }

  Modulate<B> modulate_;
  Storage<B> out_, modulated_store_, gradient_, modulated_gradient_;
  View<Vec<Cout>, const T> scale_;
  const T* b_input_ = nullptr;   // b's input: a's output, or its modulation
  const T* a_output_ = nullptr;  // a's output, which a keeps until its next forward
  bool modulated_ = false, has_shift_ = false;
  int n_ = 0;
};

}  // namespace unetflow
