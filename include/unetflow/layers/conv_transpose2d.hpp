#pragma once
// ConvTranspose2d<Cin, Cout, K, S, P> with PyTorch's weight layout [Cin][Cout][K][K].
// It is the data gradient of the Conv2d<Cout, Cin, K, S, P> whose weights are the same array, so its forward
// is that convolution's backward-data and its backward-data is that convolution's forward.
// backward(x, dy, dx) may take dx = x (without accumulate): x is read for the weight gradient before dx is written.
#include <cmath>
#include <string>

#include "../backend/cpu.hpp"
#include "../module.hpp"
#include "check.hpp"
#include "param.hpp"

namespace unetflow {

template <int Cin, int Cout, int K, int S = 1, int P = 0, class B = cpu>
class ConvTranspose2d : public OwnsOutput<ConvTranspose2d<Cin, Cout, K, S, P, B>, B> {
  static_assert(check_backend<B>());
  static_assert(Cin > 0 && Cout > 0 && K > 0 && S > 0 && P >= 0, "ConvTranspose2d: bad hyper-parameters");

 public:
  using backend = B;
  using T = typename B::scalar;
  static constexpr int in_channels = Cin, out_channels = Cout;

  template <class In>
  using output_shape = Shape<Cout, conv_transpose_out(In::H, K, S, P), conv_transpose_out(In::W, K, S, P)>;
  template <class In>
  static constexpr bool accepts = In::C == Cin && (In::H - 1) * S + K > 2 * P && (In::W - 1) * S + K > 2 * P;
  using OwnsOutput<ConvTranspose2d, B>::forward;

  // PyTorch takes fan_in from weight.size(1) * K * K, i.e. Cout * K * K, for transposed convolutions.
  Param<B> weight{{Cin, Cout, K, K}, 1.0 / std::sqrt(double(Cout * K * K))};
  Param<B> bias{{Cout}, 1.0 / std::sqrt(double(Cout * K * K))};

  // Geometry of the convolution this layer is the transpose of: output (big) -> input (small).
  template <class In>
  static constexpr ConvGeom geometry() {
    using Out = output_shape<In>;
    return {Cout, Out::H, Out::W, Cin, In::H, In::W, K, S, P};
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
    B::conv_backward_data(x.rows(), weight.data(), y.rows(), x.n, geometry<In>(), false, done);
  }

  template <class In, class U, class Out, class V>
  void backward(View<In, U> x, View<Out, V> dy, View<In, T> dx, bool accumulate = false) {
    check<In, U, Out>();
    B::channel_sums(dy.rows(), x.n, Cout, Out::plane, bias.grad.data());
    B::conv_backward_weight(dy.rows(), x.rows(), weight.grad.data(), x.n, geometry<In>());
    if (dx) B::conv_forward(dy.rows(), weight.data(), dx.rows(), x.n, geometry<In>(), accumulate);
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "weight", weight);
    f(prefix + "bias", bias);
  }

 private:
  template <class In, class U, class Out>
  static constexpr void check() {
    static_assert(In::C == Cin, "ConvTranspose2d: the input's channel count differs from the layer's Cin");
    static_assert(std::is_same_v<Out, output_shape<In>>, "ConvTranspose2d: the output's shape is not what this layer makes of the input");
    static_assert(detail::same_scalar_v<U, T>, "ConvTranspose2d: the input's scalar type differs from the backend's");
  }
};

}  // namespace unetflow
