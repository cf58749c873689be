#pragma once
// What Conv2d and ConvTranspose2d share, as PyTorch's ConvNdImpl: the parameters, the geometry and the three
// convolution primitives, which a transposed convolution takes in the other order. A transposed convolution is the
// data gradient of the Conv2d<Cout, Cin, K, S, P> whose weights are the same array: its forward is that
// convolution's backward-data and its backward-data is that convolution's forward.
//   forward(x, y)                 y gets the (transposed) convolution of x
//   backward(x, dy, dx, acc)      accumulates dw, db; dx (+)= data gradient when dx is given. dx may be x itself
//                                 (without acc): x is read for dw before dx is written
// With Bias::none (PyTorch's bias=False) there is no b: no bias parameter in visit, nothing added, nothing summed.
#include <cmath>
#include <string>
#include <type_traits>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"
#include "../param.hpp"

namespace unetflow {
// Whether a layer has a learned bias (PyTorch's bias=True, the default) or none (bias=False).
enum class Bias : bool { none = false, learned = true };
}  // namespace unetflow

namespace unetflow::detail {

template <class Layer, int Cin, int Cout, int K, int S, int P, bool Transposed, class B, Bias HasBias = Bias::learned>
class ConvNd : public OwnsOutput<Layer, B> {
  static_assert(check_backend<B>());
  static_assert(Transposed || (Cin > 0 && Cout > 0 && K > 0 && S > 0 && P >= 0), "Conv2d: bad hyper-parameters");
  static_assert(!Transposed || (Cin > 0 && Cout > 0 && K > 0 && S > 0 && P >= 0),
                "ConvTranspose2d: bad hyper-parameters");
  // PyTorch's fan_in: weight.size(1) * K * K, which is Cout * K * K for a transposed convolution.
  static double bound() { return 1.0 / std::sqrt(double((Transposed ? Cout : Cin) * K * K)); }

 public:
  using backend = B;
  using T = typename B::scalar;
  static constexpr int in_channels = Cin, out_channels = Cout;

  template <class In>
  using output_shape =
      std::conditional_t<Transposed,
                         Shape<Cout, conv_transpose_out(In::H, K, S, P), conv_transpose_out(In::W, K, S, P)>,
                         Shape<Cout, conv_out(In::H, K, S, P), conv_out(In::W, K, S, P)>>;
  template <class In>
  static constexpr bool accepts = In::C == Cin &&
                                  (Transposed ? (In::H - 1) * S + K > 2 * P && (In::W - 1) * S + K > 2 * P
                                              : In::H + 2 * P >= K && In::W + 2 * P >= K);
  using OwnsOutput<Layer, B>::forward;

  // PyTorch's layouts: [Cout][Cin][K][K], transposed [Cin][Cout][K][K].
  Param<B> weight{Transposed ? std::vector<std::int64_t>{Cin, Cout, K, K} : std::vector<std::int64_t>{Cout, Cin, K, K},
                  bound()};
  Param<B> bias{{HasBias == Bias::learned ? Cout : 0}, bound()};  // empty without a bias

  // The geometry of the convolution (for a transposed one: of the convolution it is the transpose of, big -> small).
  template <class In>
  static constexpr ConvGeom geometry() {
    using Out = output_shape<In>;
    if constexpr (Transposed)
      return {Cout, Out::H, Out::W, Cin, In::H, In::W, K, S, P};
    else
      return {Cin, In::H, In::W, Cout, Out::H, Out::W, K, S, P};
  }

  template <class In, class U, class Out>
  void forward(View<In, U> x, View<Out, T> y) {
    forward_without_bias(x, y);
    if constexpr (HasBias == Bias::learned) B::add_channel_bias(y.rows(), x.n, Cout, Out::plane, bias.data());
  }
  // y without the bias, for a consumer that adds it itself (BatchNorm2d's offset); backward is unchanged.
  // done(s), if given, is passed to the backend, which calls it once sample s's output is final.
  template <class In, class U, class Out>
  void forward_without_bias(View<In, U> x, View<Out, T> y, SampleEpilogue done = {}) {
    check<In, U, Out>();
    if constexpr (Transposed)
      B::conv_backward_data(x.rows(), weight.data(), y.rows(), x.n, geometry<In>(), false, done);
    else
      B::conv_forward(x.rows(), weight.data(), y.rows(), x.n, geometry<In>(), false, done);
  }

  template <class In, class U, class Out, class V>
  void backward(View<In, U> x, View<Out, V> dy, View<In, T> dx, bool accumulate = false) {
    check<In, U, Out>();
    if constexpr (HasBias == Bias::learned) B::channel_sums(dy.rows(), x.n, Cout, Out::plane, bias.grad.data());
    if constexpr (Transposed) {
      B::conv_backward_weight(dy.rows(), x.rows(), weight.grad.data(), x.n, geometry<In>());
      if (dx) B::conv_forward(dy.rows(), weight.data(), dx.rows(), x.n, geometry<In>(), accumulate);
    } else {
      B::conv_backward_weight(x.rows(), dy.rows(), weight.grad.data(), x.n, geometry<In>());
      if (dx) B::conv_backward_data(dy.rows(), weight.data(), dx.rows(), x.n, geometry<In>(), accumulate);
    }
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "weight", weight);
    if constexpr (HasBias == Bias::learned) f(prefix + "bias", bias);
  }

 private:
  template <class In, class U, class Out>
  static constexpr void check() {
    if constexpr (Transposed) {
      static_assert(In::C == Cin, "ConvTranspose2d: the input's channel count differs from the layer's Cin");
      static_assert(std::is_same_v<Out, output_shape<In>>,
                    "ConvTranspose2d: the output's shape is not what this layer makes of the input");
      static_assert(detail::same_scalar_v<U, T>, "ConvTranspose2d: the input's scalar type differs from the backend's");
    } else {
      static_assert(In::C == Cin, "Conv2d: the input's channel count differs from the layer's Cin");
      static_assert(std::is_same_v<Out, output_shape<In>>,
                    "Conv2d: the output's shape is not what this convolution makes of the input");
      static_assert(detail::same_scalar_v<U, T>, "Conv2d: the input's scalar type differs from the backend's");
    }
  }
};

}  // namespace unetflow::detail
