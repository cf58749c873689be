// Resampling kernels on the GPU: max pooling, ×f up-sampling (nearest, bilinear), plane means and their broadcast.
// Backward passes gather (each thread owns one input element and sums what reaches it, in a fixed order): no atomics,
// deterministic.
#include <cmath>

#include "detail.cuh"

namespace unetflow {
namespace cuda_detail {

// The arg-max of output (oy, ox)'s window in one plane, as the CPU policy picks it (first maximum, NaN wins).
__device__ int window_argmax(const T* in, int h, int w, int k, int s, int p, int oy, int ox) {
  const int y0 = oy * s - p, x0 = ox * s - p;
  const int ys = max(y0, 0), ye = min(y0 + k, h), xs = max(x0, 0), xe = min(x0 + k, w);
  int best = ys * w + xs;
  T top = -INFINITY;
  for (int iy = ys; iy < ye; ++iy)
    for (int ix = xs; ix < xe; ++ix) {
      const T v = in[iy * w + ix];
      if (v > top || isnan(v)) {
        top = v;
        best = iy * w + ix;
      }
    }
  return best;
}

__global__ void maxpool_forward_kernel(const T* x, std::ptrdiff_t xs, T* y, std::ptrdiff_t ys, int n, int C, int h,
                                       int w, int k, int s, int p, int ho, int wo) {
  const int plane = ho * wo, len = C * plane;
  UNETFLOW_FOR_ROWS(b, n) {
    UNETFLOW_FOR_IN_ROW(e, len) {
      const int c = e / plane, o = e - c * plane, oy = o / wo, ox = o - oy * wo;
      const T* in = x + b * xs + std::ptrdiff_t(c) * h * w;
      y[b * ys + e] = in[window_argmax(in, h, w, k, s, p, oy, ox)];
    }
  }
}
// Thread per input element: the windows that contain it, in row-major order, each adding its gradient if the
// element is that window's arg-max.
__global__ void maxpool_backward_kernel(const T* x, std::ptrdiff_t xs, const T* dy, std::ptrdiff_t dys, T* dx,
                                        std::ptrdiff_t dxs, int n, int C, int h, int w, int k, int s, int p, int ho,
                                        int wo, bool accumulate) {
  const int plane = h * w, len = C * plane;
  UNETFLOW_FOR_ROWS(b, n) {
    UNETFLOW_FOR_IN_ROW(e, len) {
      const int c = e / plane, i = e - c * plane, iy = i / w, ix = i - iy * w;
      const T* in = x + b * xs + std::ptrdiff_t(c) * plane;
      const T* g = dy + b * dys + std::ptrdiff_t(c) * ho * wo;
      // Outputs oy whose window [oy s - p, oy s - p + k) holds iy.
      const int oy0 = max(0, (iy + p - k + s) / s), oy1 = min(ho - 1, (iy + p) / s);
      const int ox0 = max(0, (ix + p - k + s) / s), ox1 = min(wo - 1, (ix + p) / s);
      T acc = 0;
      for (int oy = oy0; oy <= oy1; ++oy)
        for (int ox = ox0; ox <= ox1; ++ox)
          if (window_argmax(in, h, w, k, s, p, oy, ox) == i) acc += g[oy * wo + ox];
      T& out = dx[b * dxs + e];
      out = accumulate ? out + acc : acc;
    }
  }
}

// Bilinear (align_corners = false) source of output o along a side of `size` inputs, as the CPU policy.
struct Tap {
  int lo, hi;
  T weight_hi;
};
__device__ Tap bilinear_tap(int o, int size, int f) {
  const double src = fmax((o + 0.5) / f - 0.5, 0.0);
  const int lo = int(src);
  return {lo, min(lo + 1, size - 1), T(src - lo)};
}
// The weight with which output o reads input i along one side.
__device__ T bilinear_weight(int o, int i, int size, int f) {
  const Tap t = bilinear_tap(o, size, f);
  return (t.lo == i ? T(1) - t.weight_hi : T(0)) + (t.hi == i ? t.weight_hi : T(0));
}

__global__ void upsample_forward_kernel(const T* x, std::ptrdiff_t xs, T* y, std::ptrdiff_t ys, int n, int C, int h,
                                        int w, int f, bool bilinear) {
  const int ho = h * f, wo = w * f, plane = ho * wo, len = C * plane;
  UNETFLOW_FOR_ROWS(b, n) {
    UNETFLOW_FOR_IN_ROW(e, len) {
      const int c = e / plane, o = e - c * plane, oy = o / wo, ox = o - oy * wo;
      const T* in = x + b * xs + std::ptrdiff_t(c) * h * w;
      if (!bilinear) {
        y[b * ys + e] = in[(oy / f) * w + ox / f];
        continue;
      }
      const Tap ty = bilinear_tap(oy, h, f), tx = bilinear_tap(ox, w, f);
      const T top = in[ty.lo * w + tx.lo] * (T(1) - tx.weight_hi) + in[ty.lo * w + tx.hi] * tx.weight_hi;
      const T bottom = in[ty.hi * w + tx.lo] * (T(1) - tx.weight_hi) + in[ty.hi * w + tx.hi] * tx.weight_hi;
      y[b * ys + e] = top * (T(1) - ty.weight_hi) + bottom * ty.weight_hi;
    }
  }
}
// Thread per input element: the outputs that read it (within f + 1 of its own f-block on each side).
__global__ void upsample_backward_kernel(const T* dy, std::ptrdiff_t dys, T* dx, std::ptrdiff_t dxs, int n, int C,
                                         int h, int w, int f, bool bilinear, bool accumulate) {
  const int ho = h * f, wo = w * f, plane = h * w, len = C * plane;
  UNETFLOW_FOR_ROWS(b, n) {
    UNETFLOW_FOR_IN_ROW(e, len) {
      const int c = e / plane, i = e - c * plane, iy = i / w, ix = i - iy * w;
      const T* g = dy + b * dys + std::ptrdiff_t(c) * ho * wo;
      T acc = 0;
      if (!bilinear) {
        for (int oy = iy * f; oy < (iy + 1) * f; ++oy)
          for (int ox = ix * f; ox < (ix + 1) * f; ++ox) acc += g[oy * wo + ox];
      } else {
        for (int oy = max(0, (iy - 1) * f); oy < min(ho, (iy + 2) * f); ++oy) {
          const T wy = bilinear_weight(oy, iy, h, f);
          if (wy == T(0)) continue;
          for (int ox = max(0, (ix - 1) * f); ox < min(wo, (ix + 2) * f); ++ox) {
            const T wx = bilinear_weight(ox, ix, w, f);
            if (wx != T(0)) acc += g[oy * wo + ox] * wy * wx;
          }
        }
      }
      T& out = dx[b * dxs + e];
      out = accumulate ? out + acc : acc;
    }
  }
}

// One block per (sample, channel).
__global__ void channel_mean_kernel(const T* x, std::ptrdiff_t xs, T* y, std::ptrdiff_t ys, int C, int plane) {
  const int b = blockIdx.x / C, c = blockIdx.x % C;
  const T* in = x + b * xs + std::ptrdiff_t(c) * plane;
  double sum = 0;
  for (int i = threadIdx.x; i < plane; i += blockDim.x) sum += in[i];
  sum = block_sum(sum);
  if (threadIdx.x == 0) y[b * ys + c] = T(sum / plane);
}
__global__ void channel_broadcast_kernel(const T* dy, std::ptrdiff_t dys, T* dx, std::ptrdiff_t dxs, int n, int C,
                                         int plane, T scale, bool accumulate) {
  const int len = C * plane;
  UNETFLOW_FOR_ROWS(b, n) {
    UNETFLOW_FOR_IN_ROW(e, len) {
      const T v = dy[b * dys + e / plane] * scale;
      T& out = dx[b * dxs + e];
      out = accumulate ? out + v : v;
    }
  }
}

}  // namespace cuda_detail

using namespace cuda_detail;

void cuda::maxpool_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int k, int s, int p) {
  const int ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1;
  maxpool_forward_kernel<<<grid_2d(n, std::ptrdiff_t(C) * ho * wo, "maxpool_forward"), block, 0, stream()>>>(
      x.data, x.stride, y.data, y.stride, n, C, h, w, k, s, p, ho, wo);
  launched("maxpool_forward");
}
void cuda::maxpool_backward(Strided<const T> x, Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w, int k,
                            int s, int p, bool accumulate) {
  const int ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1;
  maxpool_backward_kernel<<<grid_2d(n, std::ptrdiff_t(C) * h * w, "maxpool_backward"), block, 0, stream()>>>(
      x.data, x.stride, dy.data, dy.stride, dx.data, dx.stride, n, C, h, w, k, s, p, ho, wo, accumulate);
  launched("maxpool_backward");
}
void cuda::upsample_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int f, bool bilinear) {
  upsample_forward_kernel<<<grid_2d(n, std::ptrdiff_t(C) * h * w * f * f, "upsample_forward"), block, 0, stream()>>>(
      x.data, x.stride, y.data, y.stride, n, C, h, w, f, bilinear);
  launched("upsample_forward");
}
void cuda::upsample_backward(Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w, int f, bool bilinear,
                             bool accumulate) {
  upsample_backward_kernel<<<grid_2d(n, std::ptrdiff_t(C) * h * w, "upsample_backward"), block, 0, stream()>>>(
      dy.data, dy.stride, dx.data, dx.stride, n, C, h, w, f, bilinear, accumulate);
  launched("upsample_backward");
}
void cuda::channel_mean(Strided<const T> x, Strided<T> y, int n, int C, int plane) {
  if (n <= 0 || C <= 0) return;
  channel_mean_kernel<<<unsigned(n) * unsigned(C), block, 0, stream()>>>(x.data, x.stride, y.data, y.stride, C, plane);
  launched("channel_mean");
}
void cuda::channel_broadcast(Strided<const T> dy, Strided<T> dx, int n, int C, int plane, T scale, bool accumulate) {
  channel_broadcast_kernel<<<grid_2d(n, std::ptrdiff_t(C) * plane, "channel_broadcast"), block, 0, stream()>>>(
      dy.data, dy.stride, dx.data, dx.stride, n, C, plane, scale, accumulate);
  launched("channel_broadcast");
}

}  // namespace unetflow
