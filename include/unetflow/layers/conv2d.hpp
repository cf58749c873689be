#pragma once
// Conv2d<Cin, Cout, K, S, P>: y = w * x + b with PyTorch's weight layout [Cout][Cin][K][K].
//   forward(x, y)                 y gets the convolution of x
//   backward(x, dy, dx, acc)      accumulates dw, db; dx (+)= data gradient when dx is given. dx may be x itself
//                                 (without acc): x is read for dw before dx is written
#include <cmath>
#include <string>

#include "../backend/cpu.hpp"
#include "../module.hpp"
#include "check.hpp"
#include "param.hpp"

namespace unetflow {

template <int Cin, int Cout, int K, int S = 1, int P = 0, class B = cpu>
class Conv2d : public OwnsOutput<Conv2d<Cin, Cout, K, S, P, B>, B> {
  static_assert(check_backend<B>());
  static_assert(Cin > 0 && Cout > 0 && K > 0 && S > 0 && P >= 0, "Conv2d: bad hyper-parameters");

 public:
  using backend = B;
  using T = typename B::scalar;
  static constexpr int in_channels = Cin, out_channels = Cout;

  template <class In>
  using output_shape = Shape<Cout, conv_out(In::H, K, S, P), conv_out(In::W, K, S, P)>;
  template <class In>
  static constexpr bool accepts = In::C == Cin && In::H + 2 * P >= K && In::W + 2 * P >= K;
  using OwnsOutput<Conv2d, B>::forward;

  Param<B> weight{{Cout, Cin, K, K}, 1.0 / std::sqrt(double(Cin * K * K))};
  Param<B> bias{{Cout}, 1.0 / std::sqrt(double(Cin * K * K))};

  template <class In>
  static constexpr ConvGeom geometry() {
    using Out = output_shape<In>;
    return {Cin, In::H, In::W, Cout, Out::H, Out::W, K, S, P};
  }

  template <class In, class U, class Out>
  void forward(View<In, U> x, View<Out, T> y) {
    forward_without_bias(x, y);
    B::add_channel_bias(y.rows(), x.n, Cout, Out::plane, bias.data());
  }
  // y without the bias, for a consumer that adds it itself (BatchNorm2d's offset); backward is unchanged.
  // done(s), if given, is passed to the backend, which calls it once sample s's output is final.
  template <class In, class U, class Out>
  void forward_without_bias(View<In, U> x, View<Out, T> y, SampleEpilogue done = {}) {
    check<In, U, Out>();
    B::conv_forward(x.rows(), weight.data(), y.rows(), x.n, geometry<In>(), false, done);
  }

  template <class In, class U, class Out, class V>
  void backward(View<In, U> x, View<Out, V> dy, View<In, T> dx, bool accumulate = false) {
    check<In, U, Out>();
    B::channel_sums(dy.rows(), x.n, Cout, Out::plane, bias.grad.data());
    B::conv_backward_weight(x.rows(), dy.rows(), weight.grad.data(), x.n, geometry<In>());
    if (dx) B::conv_backward_data(dy.rows(), weight.data(), dx.rows(), x.n, geometry<In>(), accumulate);
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "weight", weight);
    f(prefix + "bias", bias);
  }

 private:
  template <class In, class U, class Out>
  static constexpr void check() {
    static_assert(In::C == Cin, "Conv2d: the input's channel count differs from the layer's Cin");
    static_assert(std::is_same_v<Out, output_shape<In>>, "Conv2d: the output's shape is not what this convolution makes of the input");
    static_assert(detail::same_scalar_v<U, T>, "Conv2d: the input's scalar type differs from the backend's");
  }
};

}  // namespace unetflow
