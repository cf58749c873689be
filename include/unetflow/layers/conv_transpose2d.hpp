#pragma once
// ConvTranspose2d<Cin, Cout, K, S, P> with PyTorch's weight layout [Cin][Cout][K][K]: the data gradient of the
// Conv2d<Cout, Cin, K, S, P> whose weights are the same array (conv_nd.hpp). Bias::none as Conv2d's.
#include "conv_nd.hpp"

namespace unetflow {

template <int Cin, int Cout, int K, int S = 1, int P = 0, class B = cpu, Bias HasBias = Bias::learned>
class ConvTranspose2d
    : public detail::ConvNd<ConvTranspose2d<Cin, Cout, K, S, P, B, HasBias>, Cin, Cout, K, S, P, true, B, HasBias> {};

}  // namespace unetflow
