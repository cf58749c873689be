#pragma once
// The CPU policy's resampling room: max pooling, ×f up-sampling (nearest and bilinear), and a plane's mean with its
// broadcast back (adaptive average pooling to 1×1). Each (sample, channel) plane is one task: no two threads
// touch the same output, so scattering backward passes need no atomics.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "../../tensor.hpp"

namespace unetflow::cpu_impl {

template <class T>
struct Pooling {
  // k x k windows, stride s, padding p (padding never wins): h x w -> (h + 2p - k) / s + 1 per side.
  static void maxpool_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int k, int s, int p);
  // dx (+)= dy routed to each window's arg-max in x (the first maximum in row-major order; NaN wins, as PyTorch).
  static void maxpool_backward(Strided<const T> x, Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w,
                               int k, int s, int p, bool accumulate);
  static void upsample_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int f, bool bilinear);
  static void upsample_backward(Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w, int f, bool bilinear,
                                bool accumulate);
  static void channel_mean(Strided<const T> x, Strided<T> y, int n, int C, int plane);
  static void channel_broadcast(Strided<const T> dy, Strided<T> dx, int n, int C, int plane, T scale, bool accumulate);

  // The window's arg-max (an index into the plane) for output (oy, ox).
  static int window_argmax(const T* in, int h, int w, int k, int s, int p, int oy, int ox) {
    const int y0 = oy * s - p, x0 = ox * s - p;
    const int ys = std::max(y0, 0), ye = std::min(y0 + k, h), xs = std::max(x0, 0), xe = std::min(x0 + k, w);
    int best = ys * w + xs;
    T top = -std::numeric_limits<T>::infinity();
    for (int iy = ys; iy < ye; ++iy)
      for (int ix = xs; ix < xe; ++ix) {
        const T v = in[iy * w + ix];
        if (v > top || std::isnan(v)) {
          top = v;
          best = iy * w + ix;
        }
      }
    return best;
  }
  // Bilinear (align_corners = false) source of output index o along a side of `size` inputs: the lower input,
  // the upper one, and the upper one's weight.
  struct Tap {
    int lo, hi;
    T weight_hi;
  };
  static Tap bilinear_tap(int o, int size, int f) {
    const double src = std::max((o + 0.5) / f - 0.5, 0.0);
    const int lo = int(src);
    return {lo, std::min(lo + 1, size - 1), T(src - lo)};
  }
};

template <class T>
void Pooling<T>::maxpool_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int k, int s, int p) {
  const int ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1;
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < C; ++c) {
      const T* in = x[b] + std::ptrdiff_t(c) * h * w;
      T* out = y[b] + std::ptrdiff_t(c) * ho * wo;
      for (int oy = 0; oy < ho; ++oy)
        for (int ox = 0; ox < wo; ++ox) out[oy * wo + ox] = in[window_argmax(in, h, w, k, s, p, oy, ox)];
    }
}

template <class T>
void Pooling<T>::maxpool_backward(Strided<const T> x, Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w,
                                  int k, int s, int p, bool accumulate) {
  const int ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1;
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < C; ++c) {
      const T* in = x[b] + std::ptrdiff_t(c) * h * w;
      const T* g = dy[b] + std::ptrdiff_t(c) * ho * wo;
      T* out = dx[b] + std::ptrdiff_t(c) * h * w;
      if (!accumulate) std::fill(out, out + std::ptrdiff_t(h) * w, T(0));
      for (int oy = 0; oy < ho; ++oy)
        for (int ox = 0; ox < wo; ++ox) out[window_argmax(in, h, w, k, s, p, oy, ox)] += g[oy * wo + ox];
    }
}

template <class T>
void Pooling<T>::upsample_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int f, bool bilinear) {
  const int ho = h * f, wo = w * f;
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < C; ++c) {
      const T* in = x[b] + std::ptrdiff_t(c) * h * w;
      T* out = y[b] + std::ptrdiff_t(c) * ho * wo;
      for (int oy = 0; oy < ho; ++oy) {
        if (!bilinear) {
          for (int ox = 0; ox < wo; ++ox) out[oy * wo + ox] = in[(oy / f) * w + ox / f];
          continue;
        }
        const Tap ty = bilinear_tap(oy, h, f);
        for (int ox = 0; ox < wo; ++ox) {
          const Tap tx = bilinear_tap(ox, w, f);
          const T top = in[ty.lo * w + tx.lo] * (T(1) - tx.weight_hi) + in[ty.lo * w + tx.hi] * tx.weight_hi;
          const T bottom = in[ty.hi * w + tx.lo] * (T(1) - tx.weight_hi) + in[ty.hi * w + tx.hi] * tx.weight_hi;
          out[oy * wo + ox] = top * (T(1) - ty.weight_hi) + bottom * ty.weight_hi;
        }
      }
    }
}

template <class T>
void Pooling<T>::upsample_backward(Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w, int f, bool bilinear,
                                   bool accumulate) {
  const int ho = h * f, wo = w * f;
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < C; ++c) {
      const T* g = dy[b] + std::ptrdiff_t(c) * ho * wo;
      T* out = dx[b] + std::ptrdiff_t(c) * h * w;
      if (!accumulate) std::fill(out, out + std::ptrdiff_t(h) * w, T(0));
      for (int oy = 0; oy < ho; ++oy) {
        if (!bilinear) {
          for (int ox = 0; ox < wo; ++ox) out[(oy / f) * w + ox / f] += g[oy * wo + ox];
          continue;
        }
        const Tap ty = bilinear_tap(oy, h, f);
        for (int ox = 0; ox < wo; ++ox) {
          const Tap tx = bilinear_tap(ox, w, f);
          const T v = g[oy * wo + ox], top = v * (T(1) - ty.weight_hi), bottom = v * ty.weight_hi;
          out[ty.lo * w + tx.lo] += top * (T(1) - tx.weight_hi);
          out[ty.lo * w + tx.hi] += top * tx.weight_hi;
          out[ty.hi * w + tx.lo] += bottom * (T(1) - tx.weight_hi);
          out[ty.hi * w + tx.hi] += bottom * tx.weight_hi;
        }
      }
    }
}

template <class T>
void Pooling<T>::channel_mean(Strided<const T> x, Strided<T> y, int n, int C, int plane) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < C; ++c) {
      const T* in = x[b] + std::ptrdiff_t(c) * plane;
      double sum = 0;
      for (int i = 0; i < plane; ++i) sum += in[i];
      y[b][c] = T(sum / plane);
    }
}

template <class T>
void Pooling<T>::channel_broadcast(Strided<const T> dy, Strided<T> dx, int n, int C, int plane, T scale,
                                   bool accumulate) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < C; ++c) {
      const T v = dy[b][c] * scale;
      T* out = dx[b] + std::ptrdiff_t(c) * plane;
      for (int i = 0; i < plane; ++i) out[i] = accumulate ? out[i] + v : v;
    }
}

}  // namespace unetflow::cpu_impl
