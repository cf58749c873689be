#pragma once
// ConvBnAct<Layer, Act>: a convolution-like layer, then BatchNorm2d, then an activation (layers/activation.hpp; GELU
// by default): the body of the Conv, DownConv, UpConv and Unflatten. It keeps the convolution's output (without its
// bias, which BatchNorm folds in); BN and the activation run as one pass forward and backward, and the normalised
// map between them is recomputed, never kept. State names as nn.Sequential(conv, BatchNorm2d, activation).
//   forward(x) -> view of the output (owned here, valid until the next forward)
//   forward(x, a) -> a                 the output goes into a (caller's memory); recompute(a) writes it again later
//   backward(x, dy, dx, accumulate)   dy is overwritten; dx may be empty, or x itself (without accumulate)
#include <string>
#include <type_traits>

#include "../layers/activation.hpp"
#include "../layers/batchnorm2d.hpp"
#include "../layers/conv2d.hpp"
#include "../layers/conv_transpose2d.hpp"

namespace unetflow {

template <class Layer, class Act = GELU<typename Layer::backend>>
class ConvBnAct {
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
  [[no_unique_address]] Act act;  // its activation() is what the fused pass applies

  static constexpr int chain_depth = 0;

  template <class In, class U>
  View<output_shape<In>, T> forward(View<In, U> x) {
    return forward(x, reserve_view<output_shape<In>>(out_, x.n));
  }
  template <class In, class U>
  View<output_shape<In>, T> forward(View<In, U> x, View<output_shape<In>, T> a) {
    static_assert(In::C == in_channels, "block: the input's channel count differs from the block's Cin");
    static_assert(std::is_same_v<typename Act::backend, B>,
                  "ConvBnAct: the activation's backend differs from the layer's");
    using Out = output_shape<In>;
    auto y = reserve_view<Out>(conv_out_, x.n);
    if constexpr (B::conv_epilogues) {
      if (!bn.mode.training) {  // each sample's BatchNorm + activation right after its convolution, while in cache
        bn.prepare_evaluation(conv.bias.data());
        const auto ys = y.rows();
        const auto as = a.rows();
        auto normalise = [&](int s) { bn.apply_sample(ys[s], as[s], Out::plane, act.activation()); };
        conv.forward_without_bias(x, y, normalise);
        return a;
      }
    }
    conv.forward_without_bias(x, y);  // BatchNorm adds the bias in its own pass
    bn.forward(y, a, act.activation(), conv.bias.data());
    return a;
  }
  // The last forward's output again (BatchNorm with the statistics that forward used, then the activation).
  template <class Out>
  void recompute(View<Out, T> a) const {
    bn.replay(View<Out, const T>{conv_out_.data(), a.n}, a, act.activation());
  }

  template <class In, class U, class V>
  void backward(View<In, U> x, View<output_shape<In>, V> dy, View<In, T> dx, bool accumulate = false) {
    using Out = output_shape<In>;
    View<Out, T> y{conv_out_.data(), x.n};
    bn.backward_fused(y, dy, dy, act.activation());
    conv.backward(x, dy, dx, accumulate);
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    conv.visit(prefix + "0.", f);
    bn.visit(prefix + "1.", f);
  }

 private:
  Storage<B> conv_out_, out_;
};

// The assignment's blocks, with any activation: Conv<3, 8, cpu, ReLU> is Conv2d -> BatchNorm2d -> ReLU, fused.
template <int Cin, int Cout, class B = cpu, template <class> class Act = GELU>
using Conv = ConvBnAct<Conv2d<Cin, Cout, 3, 1, 1, B>, Act<B>>;
template <int Cin, int Cout, class B = cpu, template <class> class Act = GELU>
using DownConv = ConvBnAct<Conv2d<Cin, Cout, 3, 2, 1, B>, Act<B>>;
template <int Cin, int Cout, class B = cpu, template <class> class Act = GELU>
using UpConv = ConvBnAct<ConvTranspose2d<Cin, Cout, 4, 2, 1, B>, Act<B>>;
// 1x1 -> K x K (the UNet's way back from its bottleneck); Unflatten is the assignment's, K = 7.
template <int C, int K, class B = cpu>
using UnflattenTo = ConvBnAct<ConvTranspose2d<C, C, K, K, 0, B>>;
template <int C, class B = cpu>
using Unflatten = UnflattenTo<C, 7, B>;

}  // namespace unetflow
