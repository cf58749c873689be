#pragma once
// Chain<First, Second>: two blocks in sequence (nn.Sequential of two); ConvBlock, DownBlock and UpBlock are chains.
// The output between the two blocks is not kept: forward writes it into scratch shared by all chains of the same
// nesting depth, and backward recomputes it there from the first block's saved convolution output. Once the second
// block has taken its weight gradients that map is dead, and its gradient overwrites it.
#include <string>

#include "conv_bn_act.hpp"

namespace unetflow {

template <class First, class Second>
class Chain {
  static_assert(
      requires {
        First::chain_depth;
        Second::chain_depth;
      },
      "Chain: both parts must be convolution blocks (ConvBnAct or Chain), whose outputs it recomputes; "
      "Sequential takes any modules");
  static_assert(First::out_channels == Second::in_channels,
                "Chain: the first block's output channels differ from the second block's input channels");

 public:
  using B = typename First::B;
  using backend = B;
  using T = typename B::scalar;
  static constexpr int in_channels = First::in_channels, out_channels = Second::out_channels;
  static constexpr int chain_depth = Second::chain_depth + 1;
  template <class In>
  using mid_shape = typename First::template output_shape<In>;
  template <class In>
  using output_shape = typename Second::template output_shape<mid_shape<In>>;
  template <class In>
  static constexpr bool accepts = First::template accepts<In>&& Second::template accepts<mid_shape<In>>;

  First first;
  Second second;

  template <class In, class U>
  View<output_shape<In>, T> forward(View<In, U> x) {
    return second.forward(first.forward(x, mid<In>(x.n)));
  }
  template <class In, class U>
  View<output_shape<In>, T> forward(View<In, U> x, View<output_shape<In>, T> out) {
    return second.forward(first.forward(x, mid<In>(x.n)), out);
  }

  // The last forward's output again (the second block's recompute).
  template <class Out>
  void recompute(View<Out, T> out) const {
    second.recompute(out);
  }

  template <class In, class U, class V>
  void backward(View<In, U> x, View<output_shape<In>, V> dy, View<In, T> dx, bool accumulate = false) {
    auto m = mid<In>(x.n);
    first.recompute(m);
    second.backward(m, dy, m);
    first.backward(x, m, dx, accumulate);
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    first.visit(prefix + "0.", f);
    second.visit(prefix + "1.", f);
  }

 private:
  template <class In>
  static View<mid_shape<In>, T> mid(int n) {
    return {B::activation_scratch(chain_depth - 1, std::ptrdiff_t(n) * mid_shape<In>::size), n};
  }
};

template <int Cin, int Cout, class B = cpu>
using ConvBlock = Chain<Conv<Cin, Cout, B>, Conv<Cout, Cout, B>>;
template <int Cin, int Cout, class B = cpu>
using DownBlock = Chain<DownConv<Cin, Cout, B>, ConvBlock<Cout, Cout, B>>;
template <int Cin, int Cout, class B = cpu>
using UpBlock = Chain<UpConv<Cin, Cout, B>, ConvBlock<Cout, Cout, B>>;

}  // namespace unetflow
