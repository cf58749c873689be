// The CPU policy's kernels, compiled once (the target unetflow::cpu_kernels): every room of backend/cpu/ for float
// and double. Programs that link it define UNETFLOW_CPU_KERNELS_COMPILED and only call these.
#include <unetflow/backend/cpu.hpp>

namespace unetflow::cpu_impl {

#define UNETFLOW_CPU_ROOMS(T)                \
  template struct Memory<T>;                 \
  template struct Gemm<T>;                   \
  template struct Columns<T>;                \
  template struct WinogradConvolution<T>;    \
  template struct Convolution<T>;            \
  template struct ActivationRows<T>;               \
  template struct Normalisation<T>;          \
  template struct Pointwise<T>;              \
  template struct Pooling<T>;                \
  template struct Optimiser<T>;
UNETFLOW_CPU_ROOMS(float)
UNETFLOW_CPU_ROOMS(double)
#undef UNETFLOW_CPU_ROOMS

}  // namespace unetflow::cpu_impl
