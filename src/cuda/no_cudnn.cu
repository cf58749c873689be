// The cuDNN convolution engine where the build found no cuDNN: cuda::has_cudnn() is false and
// cuda::set_conv_engine refuses the engine, so these are never reached.
#include <stdexcept>

#include "detail.cuh"

namespace unetflow::cuda_detail {

bool cudnn_available() { return false; }

namespace {
[[noreturn]] void absent() { throw std::logic_error("cuda: the cuDNN engine was selected in a build without cuDNN"); }
}  // namespace

void cudnn_conv_forward(Strided<const T>, const T*, Strided<T>, int, const ConvGeom&, bool) { absent(); }
void cudnn_conv_backward_data(Strided<const T>, const T*, Strided<T>, int, const ConvGeom&, bool) { absent(); }
void cudnn_conv_backward_weight(Strided<const T>, Strided<const T>, T*, int, const ConvGeom&) { absent(); }

}  // namespace unetflow::cuda_detail
