// Per-channel work on the GPU: bias, bias gradient, batch normalisation (statistics, running update, fused
// BatchNorm+GELU forward and backward). Reductions over a channel run in one block each, in a fixed order.
#include <cmath>

#include "detail.cuh"

namespace unetflow {
namespace cuda_detail {

// Element i of channel c over the batch: sample i / plane, position i % plane.
__device__ inline std::ptrdiff_t channel_offset(std::ptrdiff_t i, int plane, int c, std::ptrdiff_t stride) {
  const std::ptrdiff_t s = i / plane;
  return s * stride + std::ptrdiff_t(c) * plane + (i - s * plane);
}

__global__ void add_channel_bias_kernel(T* y, std::ptrdiff_t stride, int n, int C, int plane, const T* b) {
  const std::ptrdiff_t per = std::ptrdiff_t(C) * plane, total = per * n;
  UNETFLOW_FOR(e, total) {
    const std::ptrdiff_t s = e / per, r = e - s * per;
    y[s * stride + r] += b[r / plane];
  }
}

__global__ void channel_sums_kernel(const T* y, std::ptrdiff_t stride, int n, int plane, T* out) {
  const int c = blockIdx.x;
  const std::ptrdiff_t count = std::ptrdiff_t(n) * plane;
  double acc = 0;
  for (std::ptrdiff_t i = threadIdx.x; i < count; i += blockDim.x) acc += y[channel_offset(i, plane, c, stride)];
  acc = block_sum(acc);
  if (threadIdx.x == 0) out[c] += T(acc);
}

__global__ void bn_stats_kernel(const T* x, std::ptrdiff_t stride, int n, int plane, T* mean, T* var) {
  const int c = blockIdx.x;
  const std::ptrdiff_t count = std::ptrdiff_t(n) * plane;
  double sum = 0;
  for (std::ptrdiff_t i = threadIdx.x; i < count; i += blockDim.x) sum += x[channel_offset(i, plane, c, stride)];
  const double m = block_sum(sum) / double(count);
  double sq = 0;
  for (std::ptrdiff_t i = threadIdx.x; i < count; i += blockDim.x) {
    const double d = x[channel_offset(i, plane, c, stride)] - m;
    sq += d * d;
  }
  sq = block_sum(sq);
  if (threadIdx.x == 0) {
    mean[c] = T(m);
    var[c] = T(sq / double(count));
  }
}

__global__ void bn_prepare_kernel(T* mean, T* var_invstd, T* running_mean, T* running_var, int C, double count,
                                  double momentum, double eps, bool training) {
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    if (training) {
      const double v = var_invstd[c], unbiased = count > 1 ? v * count / (count - 1) : v;
      running_mean[c] = T((1 - momentum) * running_mean[c] + momentum * mean[c]);
      running_var[c] = T((1 - momentum) * running_var[c] + momentum * unbiased);
      var_invstd[c] = T(1.0 / sqrt(v + eps));
    } else {
      mean[c] = running_mean[c];
      var_invstd[c] = T(1.0 / sqrt(double(running_var[c]) + eps));
    }
  }
}

__global__ void bn_apply_kernel(const T* x, std::ptrdiff_t xs, T* y, std::ptrdiff_t ys, int n, int C, int plane,
                                const T* mean, const T* invstd, const T* gamma, const T* beta, bool gelu_after) {
  const std::ptrdiff_t per = std::ptrdiff_t(C) * plane, total = per * n;
  UNETFLOW_FOR(e, total) {
    const std::ptrdiff_t s = e / per, r = e - s * per;
    const int c = int(r / plane);
    const T scale = invstd[c] * gamma[c], shift = beta[c] - mean[c] * scale;
    const T z = x[s * xs + r] * scale + shift;
    y[s * ys + r] = gelu_after ? gelu(z) : z;
  }
}

// One block per channel. Pass 1 turns g into the gradient of the normalised value (through GELU when fused)
// and sums it; pass 2 applies the batch-statistics correction. Each thread revisits its own elements.
// The CPU policy's formulation (cpu/norm.hpp): sums in double, the float mean's error removed by centring
// (sum of x - m over the batch), and mg, mgx kept in double, since each is subtracted from every element and
// its rounding comes back N-fold in a bias's gradient before BatchNorm (zero in exact arithmetic).
__global__ void bn_backward_kernel(const T* x, std::ptrdiff_t xs, T* g, std::ptrdiff_t gs, int n, int plane,
                                   const T* mean, const T* invstd, const T* gamma, const T* beta, T* dgamma,
                                   T* dbeta, bool batch_stats, bool gelu_after) {
  const int c = blockIdx.x;
  const std::ptrdiff_t count = std::ptrdiff_t(n) * plane;
  const T m = mean[c], is = invstd[c], scale = is * gamma[c], shift = beta[c] - m * scale;
  double sg = 0, sgx = 0, sx = 0;
  for (std::ptrdiff_t i = threadIdx.x; i < count; i += blockDim.x) {
    const T xv = x[channel_offset(i, plane, c, xs)];
    T& gv = g[channel_offset(i, plane, c, gs)];
    if (gelu_after) gv *= gelu_grad(xv * scale + shift);
    const T d = xv - m;
    sg += double(gv);
    sgx += double(gv) * double(d);
    sx += double(d);
  }
  sg = block_sum(sg);
  sgx = block_sum(sgx);
  sx = block_sum(sx);
  const double centre = batch_stats ? sx / double(count) : 0.0;  // mean is the running mean otherwise
  sgx = (sgx - centre * sg) * double(is);                         // sum of g * xhat
  if (threadIdx.x == 0) {
    dgamma[c] += T(sgx);
    dbeta[c] += T(sg);
  }
  const double k = double(gamma[c]) * double(is), ks = k * double(is);
  const double mg = batch_stats ? sg / double(count) : 0.0, mgx = batch_stats ? sgx / double(count) : 0.0;
  for (std::ptrdiff_t i = threadIdx.x; i < count; i += blockDim.x) {
    const T xv = x[channel_offset(i, plane, c, xs)];
    T& gv = g[channel_offset(i, plane, c, gs)];
    gv = T(k * (double(gv) - mg) - ks * (double(xv - m) - centre) * mgx);
  }
}

}  // namespace cuda_detail

using namespace cuda_detail;

void cuda::add_channel_bias(Strided<T> y, int n, int C, int plane, const T* b) {
  add_channel_bias_kernel<<<grid_for(std::ptrdiff_t(n) * C * plane), block, 0, stream()>>>(y.data, y.stride, n, C, plane, b);
  launched("add_channel_bias");
}
void cuda::channel_sums(Strided<const T> y, int n, int C, int plane, T* out_accumulate) {
  channel_sums_kernel<<<C, block, 0, stream()>>>(y.data, y.stride, n, plane, out_accumulate);
  launched("channel_sums");
}
void cuda::bn_stats(Strided<const T> x, int n, int C, int plane, T* mean, T* var) {
  bn_stats_kernel<<<C, block, 0, stream()>>>(x.data, x.stride, n, plane, mean, var);
  launched("bn_stats");
}
void cuda::bn_prepare(T* mean, T* var_invstd, T* running_mean, T* running_var, int C, double count, double momentum,
                      double eps, bool training) {
  bn_prepare_kernel<<<1, block, 0, stream()>>>(mean, var_invstd, running_mean, running_var, C, count, momentum, eps, training);
  launched("bn_prepare");
}
void cuda::bn_apply(Strided<const T> x, Strided<T> y, int n, int C, int plane, const T* mean, const T* invstd,
                    const T* gamma, const T* beta, Activation act) {
  bn_apply_kernel<<<grid_for(std::ptrdiff_t(n) * C * plane), block, 0, stream()>>>(
      x.data, x.stride, y.data, y.stride, n, C, plane, mean, invstd, gamma, beta, act == Activation::gelu);
  launched("bn_apply");
}
void cuda::bn_backward(Strided<const T> x, Strided<T> g, int n, int C, int plane, const T* mean, const T* invstd,
                       const T* gamma, const T* beta, T* dgamma, T* dbeta, bool batch_stats, Activation act) {
  bn_backward_kernel<<<C, block, 0, stream()>>>(x.data, x.stride, g.data, g.stride, n, plane, mean, invstd, gamma,
                                                beta, dgamma, dbeta, batch_stats, act == Activation::gelu);
  launched("bn_backward");
}

}  // namespace unetflow
