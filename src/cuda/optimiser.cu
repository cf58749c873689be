// The optimisers' updates other than Adam's (pointwise.cu) on the GPU, the same formulas as the CPU policy
// (cpu/optimiser.hpp), and the squared norm of gradient clipping.
#include <cmath>

#include "detail.cuh"

namespace unetflow {
namespace cuda_detail {

__global__ void sgd_kernel(T* p, const T* g, T* buf, std::ptrdiff_t len, T rate, T mo, T keep, T wd, bool nesterov,
                           bool first) {
  UNETFLOW_FOR(i, len) {
    T d = wd != T(0) ? g[i] + wd * p[i] : g[i];
    if (mo != T(0)) {
      buf[i] = first ? d : mo * buf[i] + keep * d;
      d = nesterov ? d + mo * buf[i] : buf[i];
    }
    p[i] -= rate * d;
  }
}
__global__ void rmsprop_kernel(T* p, const T* g, T* square_avg, T* grad_avg, T* buf, std::ptrdiff_t len, T rate, T a,
                               T ca, T e, T wd, T mo, bool centered) {
  UNETFLOW_FOR(i, len) {
    const T gi = wd != T(0) ? g[i] + wd * p[i] : g[i];
    square_avg[i] = a * square_avg[i] + ca * gi * gi;
    T avg;
    if (centered) {
      grad_avg[i] += ca * (gi - grad_avg[i]);
      avg = sqrtf(square_avg[i] - grad_avg[i] * grad_avg[i]) + e;
    } else {
      avg = sqrtf(square_avg[i]) + e;
    }
    if (mo > T(0)) {
      buf[i] = mo * buf[i] + gi / avg;
      p[i] -= rate * buf[i];
    } else {
      p[i] -= rate * gi / avg;
    }
  }
}
__global__ void adadelta_kernel(T* p, const T* g, T* square_avg, T* acc_delta, std::ptrdiff_t len, T rate, T r, T cr,
                                T e, T wd) {
  UNETFLOW_FOR(i, len) {
    const T gi = wd != T(0) ? g[i] + wd * p[i] : g[i];
    square_avg[i] = r * square_avg[i] + cr * gi * gi;
    const T delta = sqrtf(acc_delta[i] + e) / sqrtf(square_avg[i] + e) * gi;
    acc_delta[i] = r * acc_delta[i] + cr * delta * delta;
    p[i] -= rate * delta;
  }
}

// A fixed grid (the thread-to-element assignment, and so the sum, depends only on len): partial sums per block,
// then one block adds them in order.
constexpr int norm_blocks = 256;
__global__ void sum_squares_partial_kernel(const T* x, std::ptrdiff_t len, double* partial) {
  double acc = 0;
  for (std::ptrdiff_t i = std::ptrdiff_t(blockIdx.x) * blockDim.x + threadIdx.x; i < len;
       i += std::ptrdiff_t(gridDim.x) * blockDim.x)
    acc += double(x[i]) * double(x[i]);
  acc = block_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}
__global__ void sum_squares_final_kernel(const double* partial, double* out, bool accumulate) {
  double acc = 0;
  for (int i = threadIdx.x; i < norm_blocks; i += blockDim.x) acc += partial[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) *out = accumulate ? *out + acc : acc;
}

}  // namespace cuda_detail

using namespace cuda_detail;

void cuda::sgd_update(T* p, const T* g, T* buf, std::ptrdiff_t len, double lr, double momentum, double dampening,
                      double weight_decay, bool nesterov, bool first) {
  if (len <= 0) return;
  sgd_kernel<<<grid_for(len), block, 0, stream()>>>(p, g, buf, len, T(lr), T(momentum), T(1 - dampening),
                                                    T(weight_decay), nesterov, first);
  launched("sgd_update");
}
void cuda::rmsprop_update(T* p, const T* g, T* square_avg, T* grad_avg, T* buf, std::ptrdiff_t len, double lr,
                          double alpha, double eps, double weight_decay, double momentum, bool centered) {
  if (len <= 0) return;
  rmsprop_kernel<<<grid_for(len), block, 0, stream()>>>(p, g, square_avg, grad_avg, buf, len, T(lr), T(alpha),
                                                        T(1 - alpha), T(eps), T(weight_decay), T(momentum), centered);
  launched("rmsprop_update");
}
void cuda::adadelta_update(T* p, const T* g, T* square_avg, T* acc_delta, std::ptrdiff_t len, double lr, double rho,
                           double eps, double weight_decay) {
  if (len <= 0) return;
  adadelta_kernel<<<grid_for(len), block, 0, stream()>>>(p, g, square_avg, acc_delta, len, T(lr), T(rho), T(1 - rho),
                                                         T(eps), T(weight_decay));
  launched("adadelta_update");
}
void cuda::sum_squares(const T* x, std::ptrdiff_t len, double* out, bool accumulate) {
  auto* partial = reinterpret_cast<double*>(scratch(Use::partial_sums, 0, 2 * norm_blocks));
  sum_squares_partial_kernel<<<norm_blocks, block, 0, stream()>>>(x, len, partial);
  launched("sum_squares");
  sum_squares_final_kernel<<<1, block, 0, stream()>>>(partial, out, accumulate);
  launched("sum_squares (final sum)");
}

}  // namespace unetflow
