// Per-channel work on the GPU: bias, bias gradient, batch normalisation (statistics, running update, fused
// BatchNorm + activation forward and backward). A reduction over a channel is split over several blocks and their parts
// added in a fixed order (deterministic).
#include <cmath>

#include "detail.cuh"

namespace unetflow {
namespace cuda_detail {

using cuda_layout::channel_element;
using cuda_layout::Split;

// Rows are samples; within a sample, element e of C planes is in channel e / plane.
__global__ void add_channel_bias_kernel(T* y, std::ptrdiff_t stride, int n, int C, int plane, const T* b) {
  const int len = C * plane;
  UNETFLOW_FOR_ROWS(s, n) {
    T* row = y + s * stride;
    UNETFLOW_FOR_IN_ROW(e, len) row[e] += b[e / plane];
  }
}

// Per-channel sums over the batch in two passes (layout.hpp's Split): blocks (c, part) each reduce one range of
// channel c into partial[c][part][0..k), in double (reduce_part); then each channel's parts are added in part
// order (parts_sum).
template <int k, class F>
__device__ void reduce_part(Split split, int count, int c, int part, double* partial, F f) {
  const cuda_layout::Range range = cuda_layout::part_range(split, count, part);
  double acc[k] = {};
  for (int i = range.begin + int(threadIdx.x); i < range.end; i += int(blockDim.x)) f(i, acc);
  for (int q = 0; q < k; ++q) {
    const double total = block_sum(acc[q]);
    if (threadIdx.x == 0) partial[(std::ptrdiff_t(c) * split.parts + part) * k + q] = total;
  }
}
// Sum q of channel c's parts, in part order.
__device__ inline double parts_sum(const double* partial, Split split, int c, int k, int q) {
  double total = 0;
  for (int p = 0; p < split.parts; ++p) total += partial[(std::ptrdiff_t(c) * split.parts + p) * k + q];
  return total;
}

// The parts of each channel's sum (bias gradients, and the first pass of the batch statistics).
__global__ void channel_sum_parts_kernel(const T* y, std::ptrdiff_t stride, int count, int plane, Split split,
                                         double* partial) {
  const int c = blockIdx.x;
  reduce_part<1>(split, count, c, blockIdx.y, partial,
                 [&](int i, double* acc) { acc[0] += y[channel_element(i, plane, c, stride)]; });
}
__global__ void channel_sums_final_kernel(const double* partial, Split split, int C, T* out) {
  for (int c = int(blockIdx.x * blockDim.x + threadIdx.x); c < C; c += int(gridDim.x * blockDim.x))
    out[c] += T(parts_sum(partial, split, c, 1, 0));
}

// Batch statistics, two-pass as on the CPU: the mean (channel_sum_parts_kernel), then the mean squared deviation
// from it.
__global__ void bn_deviation_kernel(const T* x, std::ptrdiff_t stride, int count, int plane, Split split,
                                    const double* sums, double* squares) {
  const int c = blockIdx.x;
  const double m = parts_sum(sums, split, c, 1, 0) / double(count);
  reduce_part<1>(split, count, c, blockIdx.y, squares, [&](int i, double* acc) {
    const double d = x[channel_element(i, plane, c, stride)] - m;
    acc[0] += d * d;
  });
}
__global__ void bn_stats_final_kernel(const double* sums, const double* squares, Split split, int C, int count,
                                      T* mean, T* var) {
  for (int c = int(blockIdx.x * blockDim.x + threadIdx.x); c < C; c += int(gridDim.x * blockDim.x)) {
    mean[c] = T(parts_sum(sums, split, c, 1, 0) / double(count));
    var[c] = T(parts_sum(squares, split, c, 1, 0) / double(count));
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
                                const T* mean, const T* invstd, const T* gamma, const T* beta, Activation act) {
  const int len = C * plane;
  UNETFLOW_FOR_ROWS(s, n) {
    const T* in = x + s * xs;
    T* out = y + s * ys;
    UNETFLOW_FOR_IN_ROW(e, len) {
      const int c = e / plane;
      const T scale = invstd[c] * gamma[c], shift = beta[c] - mean[c] * scale;
      const T z = in[e] * scale + shift;
      out[e] = activation_math::apply(act, z);
    }
  }
}

// Pass 1, blocks (c, part): g becomes the gradient of the normalised value (through the fused activation), and the
// part's sums of g, g * (x - m) and x - m go to partial[c][part][0..3).
// Pass 2, the same blocks: each adds its channel's parts in order (every block the same sums) and applies the
// batch-statistics correction to its range; the first part's block adds to dgamma and dbeta.
// The CPU policy's formulation (cpu/norm.hpp): sums in double, the float mean's error removed by centring (the
// sum of x - m over the batch), and mg, mgx kept in double, since each is subtracted from every element and its
// rounding comes back N-fold in a bias's gradient before BatchNorm (zero in exact arithmetic).
__global__ void bn_backward_sums_kernel(const T* x, std::ptrdiff_t xs, T* g, std::ptrdiff_t gs, int count, int plane,
                                        Split split, const T* mean, const T* invstd, const T* gamma, const T* beta,
                                        Activation act, double* partial) {
  const int c = blockIdx.x;
  const T m = mean[c], scale = invstd[c] * gamma[c], shift = beta[c] - m * scale;
  reduce_part<3>(split, count, c, blockIdx.y, partial, [&](int i, double* acc) {
    const T xv = x[channel_element(i, plane, c, xs)];
    T& gv = g[channel_element(i, plane, c, gs)];
    if (act.kind != Activation::none) gv *= activation_math::derivative(act, xv * scale + shift);
    const T d = xv - m;
    acc[0] += double(gv);
    acc[1] += double(gv) * double(d);
    acc[2] += double(d);
  });
}
__global__ void bn_backward_apply_kernel(const T* x, std::ptrdiff_t xs, T* g, std::ptrdiff_t gs, int count, int plane,
                                         Split split, const T* mean, const T* invstd, const T* gamma, T* dgamma,
                                         T* dbeta, bool batch_stats, const double* partial) {
  const int c = blockIdx.x, part = blockIdx.y;
  const T m = mean[c], is = invstd[c];
  const double sg = parts_sum(partial, split, c, 3, 0), sx = parts_sum(partial, split, c, 3, 2);
  const double centre = batch_stats ? sx / double(count) : 0.0;  // mean is the running mean otherwise
  const double sgx = (parts_sum(partial, split, c, 3, 1) - centre * sg) * double(is);  // sum of g * xhat
  if (part == 0 && threadIdx.x == 0) {
    dgamma[c] += T(sgx);
    dbeta[c] += T(sg);
  }
  const double k = double(gamma[c]) * double(is), ks = k * double(is);
  const double mg = batch_stats ? sg / double(count) : 0.0, mgx = batch_stats ? sgx / double(count) : 0.0;
  const cuda_layout::Range range = cuda_layout::part_range(split, count, part);
  for (int i = range.begin + int(threadIdx.x); i < range.end; i += int(blockDim.x)) {
    const T xv = x[channel_element(i, plane, c, xs)];
    T& gv = g[channel_element(i, plane, c, gs)];
    gv = T(k * (double(gv) - mg) - ks * (double(xv - m) - centre) * mgx);
  }
}

// The launch of a split reduction over C channels of `count` elements each, and its partial sums (k per part).
struct SplitLaunch {
  Split split;
  dim3 grid;
  double* partial;
};
SplitLaunch split_launch(int C, int n, int plane, int k, const char* what) {
  const std::ptrdiff_t count = std::ptrdiff_t(n) * plane;
  if (!cuda_layout::fits_index(count))
    throw Error(std::string("cuda::") + what + ": " + std::to_string(C) + " channels of " + std::to_string(count) +
                " elements exceed the CUDA kernels' 32-bit index range (2^30 per channel).");
  const Split split = cuda_layout::split_channel(int(count));
  auto* partial = reinterpret_cast<double*>(
      cuda::scratch(cuda::Use::partial_sums, 0, 2 * std::ptrdiff_t(k) * C * split.parts));
  return {split, dim3(unsigned(C), unsigned(split.parts)), partial};
}
unsigned channel_blocks(int C) { return unsigned((C + block - 1) / block); }

}  // namespace cuda_detail

using namespace cuda_detail;

void cuda::add_channel_bias(Strided<T> y, int n, int C, int plane, const T* b) {
  add_channel_bias_kernel<<<grid_2d(n, std::ptrdiff_t(C) * plane, "add_channel_bias"), block, 0, stream()>>>(
      y.data, y.stride, n, C, plane, b);
  launched("add_channel_bias");
}
void cuda::channel_sums(Strided<const T> y, int n, int C, int plane, T* out_accumulate) {
  if (C <= 0) return;
  const SplitLaunch run = split_launch(C, n, plane, 1, "channel_sums");
  channel_sum_parts_kernel<<<run.grid, block, 0, stream()>>>(y.data, y.stride, n * plane, plane, run.split, run.partial);
  launched("channel_sums");
  channel_sums_final_kernel<<<channel_blocks(C), block, 0, stream()>>>(run.partial, run.split, C, out_accumulate);
  launched("channel_sums (parts)");
}
void cuda::bn_stats(Strided<const T> x, int n, int C, int plane, T* mean, T* var) {
  if (C <= 0) return;
  const SplitLaunch run = split_launch(C, n, plane, 2, "bn_stats");
  double *sums = run.partial, *squares = run.partial + std::ptrdiff_t(C) * run.split.parts;
  channel_sum_parts_kernel<<<run.grid, block, 0, stream()>>>(x.data, x.stride, n * plane, plane, run.split, sums);
  launched("bn_stats (sums)");
  bn_deviation_kernel<<<run.grid, block, 0, stream()>>>(x.data, x.stride, n * plane, plane, run.split, sums, squares);
  launched("bn_stats (squared deviations)");
  bn_stats_final_kernel<<<channel_blocks(C), block, 0, stream()>>>(sums, squares, run.split, C, n * plane, mean, var);
  launched("bn_stats (parts)");
}
void cuda::bn_prepare(T* mean, T* var_invstd, T* running_mean, T* running_var, int C, double count, double momentum,
                      double eps, bool training) {
  bn_prepare_kernel<<<1, block, 0, stream()>>>(mean, var_invstd, running_mean, running_var, C, count, momentum, eps, training);
  launched("bn_prepare");
}
void cuda::bn_apply(Strided<const T> x, Strided<T> y, int n, int C, int plane, const T* mean, const T* invstd,
                    const T* gamma, const T* beta, Activation act) {
  bn_apply_kernel<<<grid_2d(n, std::ptrdiff_t(C) * plane, "bn_apply"), block, 0, stream()>>>(
      x.data, x.stride, y.data, y.stride, n, C, plane, mean, invstd, gamma, beta, act);
  launched("bn_apply");
}
void cuda::bn_backward(Strided<const T> x, Strided<T> g, int n, int C, int plane, const T* mean, const T* invstd,
                       const T* gamma, const T* beta, T* dgamma, T* dbeta, bool batch_stats, Activation act) {
  if (C <= 0) return;
  const SplitLaunch run = split_launch(C, n, plane, 3, "bn_backward");
  bn_backward_sums_kernel<<<run.grid, block, 0, stream()>>>(x.data, x.stride, g.data, g.stride, n * plane, plane,
                                                            run.split, mean, invstd, gamma, beta,
                                                            act, run.partial);
  launched("bn_backward (sums)");
  bn_backward_apply_kernel<<<run.grid, block, 0, stream()>>>(x.data, x.stride, g.data, g.stride, n * plane, plane,
                                                             run.split, mean, invstd, gamma, dgamma, dbeta,
                                                             batch_stats, run.partial);
  launched("bn_backward");
}

}  // namespace unetflow
