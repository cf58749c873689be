// Each CASE is a backend policy that breaks the contract of backend/backend.hpp; tests/CMakeLists.txt compiles this
// file once per case and checks that the compiler's output names the missing primitive. CASE 0 is the control.
#include <unetflow/backend/cpu.hpp>  // the layers name the CPU policy (backend/cpu_fwd.hpp); its definition is here
#include <unetflow/layers/avgpool2d.hpp>
#include <unetflow/layers/batchnorm2d.hpp>
#include <unetflow/layers/conv2d.hpp>
#include <unetflow/layers/conv_transpose2d.hpp>
#include <unetflow/layers/activation.hpp>
#include <unetflow/module.hpp>
#include <unetflow/layers/linear.hpp>

using namespace unetflow;

// The CPU policy with one primitive taken away.
struct without_bn_stats : cpu {
  static void bn_stats() = delete;
};
struct without_gemm : cpu {
  static void gemm() = delete;
};
struct without_scalar {};

int main() {
#if CASE == 0
  static_assert(Backend<cpu> && Backend<cpu_f64>);
  static_assert(Layer<Conv2d<4, 8, 3, 1, 1>, Shape<4, 28, 28>> && Layer<ConvTranspose2d<8, 4, 4, 2, 1>, Shape<8, 7, 7>>);
  static_assert(Layer<BatchNorm2d<4>, Shape<4, 7, 7>> && Layer<GELU<>, Shape<4, 7, 7>> && Layer<Linear<3, 5>, Vec<3>>);
  static_assert(Layer<AvgPool2d<7>, Shape<4, 7, 7>>);
  Conv2d<1, 1, 3, 1, 1, cpu> layer;
#elif CASE == 1
  Conv2d<1, 1, 3, 1, 1, without_bn_stats> layer;
#elif CASE == 2
  BatchNorm2d<4, without_gemm> layer;
#elif CASE == 3
  GELU<without_scalar> layer;
#endif
  (void)layer;
}
