#pragma once
// Chain<First, Second>: two blocks in sequence (nn.Sequential of two), with the gradient buffer between them.
// ConvBlock, DownBlock and UpBlock are chains.
#include <string>

#include "conv_bn_gelu.hpp"

namespace unetflow {

template <class First, class Second>
class Chain {
  static_assert(First::out_channels == Second::in_channels,
                "Chain: the first block's output channels differ from the second block's input channels");

 public:
  using B = typename First::B;
  using T = typename B::scalar;
  static constexpr int in_channels = First::in_channels, out_channels = Second::out_channels;
  template <class In>
  using mid_shape = typename First::template output_shape<In>;
  template <class In>
  using output_shape = typename Second::template output_shape<mid_shape<In>>;

  First first;
  Second second;

  template <class In, class U>
  View<output_shape<In>, T> forward(View<In, U> x) {
    static_assert(In::C == in_channels, "block: the input's channel count differs from the block's Cin");
    mid_ = first.forward(x).data;
    return second.forward(View<mid_shape<In>, T>{mid_, x.n});
  }

  template <class In, class U, class V>
  void backward(View<In, U> x, View<output_shape<In>, V> dy, View<In, T> dx, bool accumulate = false) {
    using Mid = mid_shape<In>;
    auto dmid = reserve_view<Mid>(grad_mid_, x.n);
    second.backward(View<Mid, T>{mid_, x.n}, dy, dmid);
    first.backward(x, dmid, dx, accumulate);
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    first.visit(prefix + "0.", f);
    second.visit(prefix + "1.", f);
  }

 private:
  T* mid_ = nullptr;
  Storage<B> grad_mid_;
};

template <int Cin, int Cout, class B = cpu>
using ConvBlock = Chain<Conv<Cin, Cout, B>, Conv<Cout, Cout, B>>;
template <int Cin, int Cout, class B = cpu>
using DownBlock = Chain<DownConv<Cin, Cout, B>, ConvBlock<Cout, Cout, B>>;
template <int Cin, int Cout, class B = cpu>
using UpBlock = Chain<UpConv<Cin, Cout, B>, ConvBlock<Cout, Cout, B>>;

}  // namespace unetflow
