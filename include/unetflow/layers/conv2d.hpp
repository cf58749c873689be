#pragma once
// Conv2d<Cin, Cout, K, S, P>: y = w * x + b with PyTorch's weight layout [Cout][Cin][K][K] (conv_nd.hpp);
// Conv2d<Cin, Cout, K, S, P, B, Bias::none> is bias=False.
#include "conv_nd.hpp"

namespace unetflow {

template <int Cin, int Cout, int K, int S = 1, int P = 0, class B = cpu, Bias HasBias = Bias::learned>
class Conv2d : public detail::ConvNd<Conv2d<Cin, Cout, K, S, P, B, HasBias>, Cin, Cout, K, S, P, false, B, HasBias> {};

}  // namespace unetflow
