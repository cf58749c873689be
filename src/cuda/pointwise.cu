// Element-wise kernels on the GPU: activations, row copies and sums, averaging, average pooling, conditioning,
// dropout masks, embedding look-ups, the losses (MSE, element-wise), flow matching's interpolation and the Adam update.
#include <cmath>

#include <unetflow/backend/dropout_hash.hpp>
#include <unetflow/backend/loss_math.hpp>

#include "detail.cuh"

namespace unetflow {
namespace cuda_detail {

// y op= x over n rows of len scalars (the row-wise element-wise ops: activations and their gradients, copy, add).
template <class Op>
__global__ void rows_kernel(const T* x, std::ptrdiff_t xs, T* y, std::ptrdiff_t ys, int n, int len, Op op) {
  UNETFLOW_FOR_ROWS(s, n) {
    const T* in = x + s * xs;
    T* out = y + s * ys;
    UNETFLOW_FOR_IN_ROW(i, len) op(out[i], in[i]);
  }
}
template <class Op>
void rows(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len, Op op, const char* name) {
  rows_kernel<<<grid_2d(n, len, name), block, 0, stream()>>>(x.data, x.stride, y.data, y.stride, n, int(len), op);
  launched(name);
}
__global__ void blend_kernel(T* y, const T* x, std::ptrdiff_t len, T a, T b) {
  UNETFLOW_FOR(i, len) y[i] = a * y[i] + b * x[i];
}

// Rows are samples; within a sample, output (c, oy, ox) averages a k x k window of channel c.
__global__ void avgpool_forward_kernel(const T* x, std::ptrdiff_t xs, T* y, std::ptrdiff_t ys, int n, int C, int h, int w, int k) {
  const int ho = h / k, wo = w / k, plane = ho * wo, len = C * plane;
  UNETFLOW_FOR_ROWS(s, n) {
    UNETFLOW_FOR_IN_ROW(e, len) {
      const int c = e / plane, o = e - c * plane, oy = o / wo, ox = o - oy * wo;
      const T* in = x + s * xs + std::ptrdiff_t(c) * h * w + (oy * k) * w + ox * k;
      T acc = 0;
      for (int ky = 0; ky < k; ++ky)
        for (int kx = 0; kx < k; ++kx) acc += in[ky * w + kx];
      y[s * ys + e] = acc * (T(1) / T(k * k));
    }
  }
}
__global__ void avgpool_backward_kernel(const T* dy, std::ptrdiff_t dys, T* dx, std::ptrdiff_t dxs, int n, int C, int h,
                                        int w, int k, bool accumulate) {
  const int ho = h / k, wo = w / k, plane = h * w, len = C * plane;
  UNETFLOW_FOR_ROWS(s, n) {
    UNETFLOW_FOR_IN_ROW(e, len) {
      const int c = e / plane, pixel = e - c * plane, iy = pixel / w, ix = pixel - iy * w;
      const T v = dy[s * dys + (c * ho + iy / k) * wo + ix / k] * (T(1) / T(k * k));
      T& out = dx[s * dxs + e];
      out = accumulate ? out + v : v;
    }
  }
}

__global__ void modulate_forward_kernel(const T* h, std::ptrdiff_t hs, const T* scale, std::ptrdiff_t ss, const T* shift,
                                        std::ptrdiff_t bs, T* y, std::ptrdiff_t ys, int n, int C, int plane) {
  const int len = C * plane;
  UNETFLOW_FOR_ROWS(s, n) {
    UNETFLOW_FOR_IN_ROW(e, len) {
      const int c = e / plane;
      y[s * ys + e] = h[s * hs + e] * scale[s * ss + c] + (shift ? shift[s * bs + c] : T(0));
    }
  }
}
// One block per (sample, channel): the two sums over the plane, and dh.
__global__ void modulate_backward_kernel(const T* h, std::ptrdiff_t hs, const T* scale, std::ptrdiff_t ss, const T* dy,
                                         std::ptrdiff_t dys, T* dh, std::ptrdiff_t dhs, T* dscale, std::ptrdiff_t dss,
                                         T* dshift, std::ptrdiff_t dbs, int C, int plane) {
  const int s = blockIdx.x / C, c = blockIdx.x % C;
  const T a = scale[s * ss + c];
  const std::ptrdiff_t off = std::ptrdiff_t(c) * plane;
  float sa = 0, sb = 0;
  for (int i = threadIdx.x; i < plane; i += blockDim.x) {
    const T g = dy[s * dys + off + i];
    sa += g * h[s * hs + off + i];
    sb += g;
    dh[s * dhs + off + i] = g * a;
  }
  sa = block_sum(sa);
  sb = block_sum(sb);
  if (threadIdx.x == 0) {
    dscale[s * dss + c] = sa;
    if (dshift) dshift[s * dbs + c] = sb;
  }
}

// One block per row: the maximum, then the sum of exponentials, both as deterministic block reductions.
__global__ void softmax_rows_kernel(T* x, std::ptrdiff_t len) {
  T* row = x + std::ptrdiff_t(blockIdx.x) * len;
  float top = -INFINITY;
  for (std::ptrdiff_t i = threadIdx.x; i < len; i += blockDim.x) top = fmaxf(top, row[i]);
  top = block_max(top);
  float sum = 0;
  for (std::ptrdiff_t i = threadIdx.x; i < len; i += blockDim.x) sum += (row[i] = expf(row[i] - top));
  const float inverse = 1.f / block_sum(sum);
  for (std::ptrdiff_t i = threadIdx.x; i < len; i += blockDim.x) row[i] *= inverse;
}
__global__ void softmax_backward_rows_kernel(const T* a, T* g, std::ptrdiff_t len) {
  const std::ptrdiff_t off = std::ptrdiff_t(blockIdx.x) * len;
  float dot = 0;
  for (std::ptrdiff_t i = threadIdx.x; i < len; i += blockDim.x) dot += g[off + i] * a[off + i];
  dot = block_sum(dot);
  for (std::ptrdiff_t i = threadIdx.x; i < len; i += blockDim.x) g[off + i] = a[off + i] * (g[off + i] - dot);
}

__global__ void log_softmax_rows_kernel(const T* x, T* y, std::ptrdiff_t len) {
  const std::ptrdiff_t off = std::ptrdiff_t(blockIdx.x) * len;
  float top = -INFINITY;
  for (std::ptrdiff_t i = threadIdx.x; i < len; i += blockDim.x) top = fmaxf(top, x[off + i]);
  top = block_max(top);
  double sum = 0;
  for (std::ptrdiff_t i = threadIdx.x; i < len; i += blockDim.x) sum += exp(double(x[off + i] - top));
  const T shift = top + T(log(block_sum(sum)));
  for (std::ptrdiff_t i = threadIdx.x; i < len; i += blockDim.x) y[off + i] = x[off + i] - shift;
}
__global__ void log_softmax_backward_rows_kernel(const T* y, T* g, std::ptrdiff_t len) {
  const std::ptrdiff_t off = std::ptrdiff_t(blockIdx.x) * len;
  double sum = 0;
  for (std::ptrdiff_t i = threadIdx.x; i < len; i += blockDim.x) sum += g[off + i];
  sum = block_sum(sum);
  for (std::ptrdiff_t i = threadIdx.x; i < len; i += blockDim.x) g[off + i] -= T(exp(double(y[off + i])) * sum);
}

// A fixed grid of mse_blocks blocks over the n * len elements (below 2^30: 32-bit indices): each thread's
// elements, and so every partial sum, depend only on the shape.
constexpr int mse_blocks = 256;
__global__ void mse_partial_kernel(const T* pred, std::ptrdiff_t ps, const T* target, std::ptrdiff_t ts, T* grad,
                                   std::ptrdiff_t gs, int len, int total, double scale, double* partial) {
  double acc = 0;
  for (int e = int(blockIdx.x * blockDim.x + threadIdx.x); e < total; e += int(gridDim.x * blockDim.x)) {
    const int s = e / len, i = e - s * len;
    const double d = double(pred[s * ps + i]) - double(target[s * ts + i]);
    acc += d * d;
    if (grad) grad[s * gs + i] = T(scale * d);
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}
__global__ void mse_final_kernel(const double* partial, int blocks, std::ptrdiff_t total, double* loss) {
  double acc = 0;
  for (int i = threadIdx.x; i < blocks; i += blockDim.x) acc += partial[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) *loss = acc / double(total);
}

__global__ void dropout_mask_kernel(T* mask, std::ptrdiff_t len, std::uint32_t threshold, T kept, std::uint64_t seed,
                                    std::uint64_t draw) {
  UNETFLOW_FOR(i, len) mask[i] = dropout_hash::keep(seed, draw, std::uint64_t(i), threshold) ? kept : T(0);
}
__global__ void embedding_forward_kernel(const T* index, const T* weight, T* y, std::ptrdiff_t ys, int n, int dim) {
  UNETFLOW_FOR_ROWS(s, n) {
    const T* row = weight + std::ptrdiff_t(index[s]) * dim;
    UNETFLOW_FOR_IN_ROW(i, dim) y[s * ys + i] = row[i];
  }
}
// Thread per weight element: the samples that chose its row, in sample order (deterministic, no atomics).
__global__ void embedding_backward_kernel(const T* index, const T* dy, std::ptrdiff_t dys, T* dweight, int n, int dim,
                                          int rows) {
  UNETFLOW_FOR(e, std::ptrdiff_t(rows) * dim) {
    const int r = int(e / dim), i = int(e - std::ptrdiff_t(r) * dim);
    T acc = 0;
    for (int s = 0; s < n; ++s)
      if (int(index[s]) == r) acc += dy[s * dys + i];
    dweight[e] += acc;
  }
}
// As mse_partial_kernel, with loss_math's element losses.
__global__ void elementwise_loss_partial_kernel(ElementLoss kind, const T* pred, std::ptrdiff_t ps, const T* target,
                                                std::ptrdiff_t ts, T* grad, std::ptrdiff_t gs, int len, int total,
                                                double beta, double scale, double* partial) {
  double acc = 0;
  for (int e = int(blockIdx.x * blockDim.x + threadIdx.x); e < total; e += int(gridDim.x * blockDim.x)) {
    const int s = e / len, i = e - s * len;
    const auto v = loss_math::element(kind, double(pred[s * ps + i]), double(target[s * ts + i]), beta);
    acc += v.loss;
    if (grad) grad[s * gs + i] = T(scale * v.grad);
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}
__global__ void scaled_sum_kernel(const double* partial, int blocks, double scale, double* loss) {
  double acc = 0;
  for (int i = threadIdx.x; i < blocks; i += blockDim.x) acc += partial[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) *loss = acc * scale;
}

__global__ void interpolate_kernel(const T* x0, std::ptrdiff_t s0, const T* x1, std::ptrdiff_t s1, const T* t, T* xt,
                                   std::ptrdiff_t sxt, T* target, std::ptrdiff_t stg, int n, int len) {
  UNETFLOW_FOR_ROWS(s, n) {
    const T ts = t[s];
    UNETFLOW_FOR_IN_ROW(i, len) {
      const T a = x0[s * s0 + i], b = x1[s * s1 + i];
      xt[s * sxt + i] = (T(1) - ts) * a + ts * b;
      target[s * stg + i] = b - a;
    }
  }
}

__global__ void adam_kernel(T* p, const T* g, T* m, T* v, std::ptrdiff_t len, T step_size, T sqrt_bc2, T b1, T b2, T c1,
                            T c2, T e, T wd) {
  UNETFLOW_FOR(i, len) {
    const T gi = wd != T(0) ? g[i] + wd * p[i] : g[i];
    m[i] = b1 * m[i] + c1 * gi;
    v[i] = b2 * v[i] + c2 * gi * gi;
    p[i] -= step_size * m[i] / (sqrtf(v[i]) / sqrt_bc2 + e);
  }
}

}  // namespace cuda_detail

using namespace cuda_detail;

void cuda::activation_forward(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len, Activation act) {
  rows(x, y, n, len, [act] __device__(T& out, T in) { out = activation_math::apply(act, in); }, "activation_forward");
}
void cuda::activation_backward(Strided<const T> x, Strided<T> g, int n, std::ptrdiff_t len, Activation act) {
  rows(x, g, n, len, [act] __device__(T& grad, T in) { grad *= activation_math::derivative(act, in); },
       "activation_backward");
}
void cuda::dropout_mask(T* mask, std::ptrdiff_t len, double p, std::uint64_t seed, std::uint64_t draw) {
  if (len <= 0) return;
  dropout_mask_kernel<<<grid_for(len), block, 0, stream()>>>(mask, len, dropout_hash::keep_threshold(p),
                                                             p < 1 ? T(1.0 / (1.0 - p)) : T(0), seed, draw);
  launched("dropout_mask");
}
void cuda::embedding_forward(const T* index, const T* weight, Strided<T> y, int n, int dim) {
  embedding_forward_kernel<<<grid_2d(n, dim, "embedding_forward"), block, 0, stream()>>>(index, weight, y.data,
                                                                                         y.stride, n, dim);
  launched("embedding_forward");
}
void cuda::embedding_backward(const T* index, Strided<const T> dy, T* dweight, int n, int dim, int rows) {
  if (rows <= 0 || dim <= 0) return;
  embedding_backward_kernel<<<grid_for(std::ptrdiff_t(rows) * dim), block, 0, stream()>>>(index, dy.data, dy.stride,
                                                                                          dweight, n, dim, rows);
  launched("embedding_backward");
}
void cuda::elementwise_loss(ElementLoss kind, Strided<const T> pred, Strided<const T> target, Strided<T> grad, int n,
                            std::ptrdiff_t len, double beta, double scale, double* loss) {
  check_index_range(1, n * len, "elementwise_loss");
  auto* partial = reinterpret_cast<double*>(scratch(Use::partial_sums, 0, 2 * mse_blocks));
  elementwise_loss_partial_kernel<<<mse_blocks, block, 0, stream()>>>(kind, pred.data, pred.stride, target.data,
                                                                       target.stride, grad.data, grad.stride, int(len),
                                                                       int(n * len), beta, scale, partial);
  launched("elementwise_loss");
  scaled_sum_kernel<<<1, block, 0, stream()>>>(partial, mse_blocks, scale, loss);
  launched("elementwise_loss (final sum)");
}
void cuda::copy_rows(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len) {
  rows(x, y, n, len, [] __device__(T& out, T in) { out = in; }, "copy_rows");
}
void cuda::add_rows(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len) {
  rows(x, y, n, len, [] __device__(T& out, T in) { out += in; }, "add_rows");
}
void cuda::blend(T* y, const T* x, std::ptrdiff_t len, T a, T b) {
  if (len <= 0) return;
  blend_kernel<<<grid_for(len), block, 0, stream()>>>(y, x, len, a, b);
  launched("blend");
}
void cuda::avgpool_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int k) {
  avgpool_forward_kernel<<<grid_2d(n, std::ptrdiff_t(C) * (h / k) * (w / k), "avgpool_forward"), block, 0, stream()>>>(
      x.data, x.stride, y.data, y.stride, n, C, h, w, k);
  launched("avgpool_forward");
}
void cuda::avgpool_backward(Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w, int k, bool accumulate) {
  avgpool_backward_kernel<<<grid_2d(n, std::ptrdiff_t(C) * h * w, "avgpool_backward"), block, 0, stream()>>>(
      dy.data, dy.stride, dx.data, dx.stride, n, C, h, w, k, accumulate);
  launched("avgpool_backward");
}
void cuda::modulate_forward(Strided<const T> h, Strided<const T> scale, Strided<const T> shift, Strided<T> y, int n,
                            int C, int plane) {
  modulate_forward_kernel<<<grid_2d(n, std::ptrdiff_t(C) * plane, "modulate_forward"), block, 0, stream()>>>(
      h.data, h.stride, scale.data, scale.stride, shift.data, shift.stride, y.data, y.stride, n, C, plane);
  launched("modulate_forward");
}
void cuda::modulate_backward(Strided<const T> h, Strided<const T> scale, Strided<const T> dy, Strided<T> dh,
                             Strided<T> dscale, Strided<T> dshift, int n, int C, int plane) {
  if (n <= 0) return;
  modulate_backward_kernel<<<unsigned(n) * unsigned(C), block, 0, stream()>>>(
      h.data, h.stride, scale.data, scale.stride, dy.data, dy.stride, dh.data, dh.stride, dscale.data, dscale.stride,
      dshift.data, dshift.stride, C, plane);
  launched("modulate_backward");
}
void cuda::softmax_rows(T* x, std::ptrdiff_t rows, std::ptrdiff_t len) {
  if (rows <= 0) return;
  softmax_rows_kernel<<<unsigned(rows), block, 0, stream()>>>(x, len);
  launched("softmax_rows");
}
void cuda::softmax_backward_rows(const T* a, T* g, std::ptrdiff_t rows, std::ptrdiff_t len) {
  if (rows <= 0) return;
  softmax_backward_rows_kernel<<<unsigned(rows), block, 0, stream()>>>(a, g, len);
  launched("softmax_backward_rows");
}
void cuda::log_softmax_rows(const T* x, T* y, std::ptrdiff_t rows, std::ptrdiff_t len) {
  if (rows <= 0) return;
  log_softmax_rows_kernel<<<unsigned(rows), block, 0, stream()>>>(x, y, len);
  launched("log_softmax_rows");
}
void cuda::log_softmax_backward_rows(const T* y, T* g, std::ptrdiff_t rows, std::ptrdiff_t len) {
  if (rows <= 0) return;
  log_softmax_backward_rows_kernel<<<unsigned(rows), block, 0, stream()>>>(y, g, len);
  launched("log_softmax_backward_rows");
}
void cuda::mse(Strided<const T> pred, Strided<const T> target, Strided<T> grad, int n, std::ptrdiff_t len, double* loss) {
  check_index_range(1, n * len, "mse");
  auto* partial = reinterpret_cast<double*>(scratch(Use::partial_sums, 0, 2 * mse_blocks));
  mse_partial_kernel<<<mse_blocks, block, 0, stream()>>>(pred.data, pred.stride, target.data, target.stride, grad.data,
                                                          grad.stride, int(len), int(n * len), 2.0 / double(n * len),
                                                          partial);
  launched("mse");
  mse_final_kernel<<<1, block, 0, stream()>>>(partial, mse_blocks, n * len, loss);
  launched("mse (final sum)");
}
void cuda::interpolate(Strided<const T> x0, Strided<const T> x1, const T* t, Strided<T> xt, Strided<T> target, int n,
                       std::ptrdiff_t len) {
  interpolate_kernel<<<grid_2d(n, len, "interpolate"), block, 0, stream()>>>(
      x0.data, x0.stride, x1.data, x1.stride, t, xt.data, xt.stride, target.data, target.stride, n, int(len));
  launched("interpolate");
}
void cuda::adam_update(T* p, const T* g, T* m, T* v, std::ptrdiff_t len, double lr, double beta1, double beta2, double eps,
                       double weight_decay, long step) {
  const double bc1 = 1.0 - std::pow(beta1, double(step)), bc2 = 1.0 - std::pow(beta2, double(step));
  adam_kernel<<<grid_for(len), block, 0, stream()>>>(p, g, m, v, len, T(lr / bc1), T(std::sqrt(bc2)), T(beta1), T(beta2),
                                                     T(1 - beta1), T(1 - beta2), T(eps), T(weight_decay));
  launched("adam_update");
}

}  // namespace unetflow
