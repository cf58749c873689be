#pragma once
// ConvBnGelu<Layer>: a convolution-like layer, then BatchNorm2d, then GELU: the body of the Conv, DownConv,
// UpConv and Unflatten. It keeps the convolution's output (without its bias, which BatchNorm folds in); BN and
// GELU run as one pass forward and backward, and the normalised map between them is recomputed, never kept.
//   forward(x) -> view of the output (owned here, valid until the next forward)
//   forward(x, a) -> a                 the output goes into a (caller's memory); recompute(a) writes it again later
//   backward(x, dy, dx, accumulate)   dy is overwritten; dx may be empty, or x itself (without accumulate)
#include <string>

#include "../layers/batchnorm2d.hpp"
#include "../layers/conv2d.hpp"
#include "../layers/conv_transpose2d.hpp"

namespace unetflow {

template <class Layer>
class ConvBnGelu {
 public:
  using B = typename Layer::backend;
  using backend = B;
  using T = typename B::scalar;
  static constexpr int in_channels = Layer::in_channels, out_channels = Layer::out_channels;
  template <class In>
  using output_shape = typename Layer::template output_shape<In>;
  template <class In>
  static constexpr bool accepts = Layer::template accepts<In>;

  Layer conv;
  BatchNorm2d<out_channels, B> bn;

  static constexpr int chain_depth = 0;

  template <class In, class U>
  View<output_shape<In>, T> forward(View<In, U> x) {
    return forward(x, reserve_view<output_shape<In>>(out_, x.n));
  }
  template <class In, class U>
  View<output_shape<In>, T> forward(View<In, U> x, View<output_shape<In>, T> a) {
    static_assert(In::C == in_channels, "block: the input's channel count differs from the block's Cin");
    using Out = output_shape<In>;
    auto y = reserve_view<Out>(conv_out_, x.n);
    if constexpr (B::conv_epilogues) {
      if (!bn.mode.training) {  // each sample's BatchNorm + GELU right after its convolution, while in cache
        bn.prepare_evaluation(conv.bias.data());
        const auto ys = y.rows();
        const auto as = a.rows();
        auto normalise = [&](int s) { bn.apply_sample(ys[s], as[s], Out::plane, gelu_after); };
        conv.forward_without_bias(x, y, normalise);
        return a;
      }
    }
    conv.forward_without_bias(x, y);  // BatchNorm adds the bias in its own pass
    bn.forward(y, a, gelu_after, conv.bias.data());
    return a;
  }
  // The last forward's output again (BatchNorm with the statistics that forward used, then GELU).
  template <class Out>
  void recompute(View<Out, T> a) const {
    bn.replay(View<Out, const T>{conv_out_.data(), a.n}, a, gelu_after);
  }

  template <class In, class U, class V>
  void backward(View<In, U> x, View<output_shape<In>, V> dy, View<In, T> dx, bool accumulate = false) {
    using Out = output_shape<In>;
    View<Out, T> y{conv_out_.data(), x.n};
    bn.backward_fused(y, dy, dy, gelu_after);
    conv.backward(x, dy, dx, accumulate);
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    conv.visit(prefix + "0.", f);
    bn.visit(prefix + "1.", f);
  }

 private:
  static constexpr auto gelu_after = B::Activation::gelu;
  Storage<B> conv_out_, out_;
};

template <int Cin, int Cout, class B = cpu>
using Conv = ConvBnGelu<Conv2d<Cin, Cout, 3, 1, 1, B>>;
template <int Cin, int Cout, class B = cpu>
using DownConv = ConvBnGelu<Conv2d<Cin, Cout, 3, 2, 1, B>>;
template <int Cin, int Cout, class B = cpu>
using UpConv = ConvBnGelu<ConvTranspose2d<Cin, Cout, 4, 2, 1, B>>;
// 1x1 -> K x K (the UNet's way back from its bottleneck); Unflatten is the assignment's, K = 7.
template <int C, int K, class B = cpu>
using UnflattenTo = ConvBnGelu<ConvTranspose2d<C, C, K, K, 0, B>>;
template <int C, class B = cpu>
using Unflatten = UnflattenTo<C, 7, B>;

}  // namespace unetflow
