#pragma once
// The CPU policy's resampling room: max pooling, ×f up-sampling (nearest and bilinear), and a plane's mean with its
// broadcast back (adaptive average pooling to 1×1). Each (sample, channel) plane is one task: no two threads
// touch the same output, so scattering backward passes need no atomics.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "../../tensor.hpp"
#include "plane_kernels.hpp"

namespace unetflow::cpu_impl {

template <class T>
struct Pooling {
  using K = PlaneKernels<T>;
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

  // Bilinear (align_corners = false) source of output index o along a side of `size` inputs: the lower input,
  // the upper one, and the upper one's weight.
  struct Tap {
    int lo, hi;
    T weight_hi;
  };
  // The taps of `count` outputs along a side (computed once per call, not per element).
  static std::vector<Tap> taps(int count, int size, int f) {
    std::vector<Tap> t(std::size_t(count > 0 ? count : 0));
    for (int o = 0; o < count; ++o) t[std::size_t(o)] = bilinear_tap(o, size, f);
    return t;
  }
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
      if (p == 0 && k == 2 && s == 2 && w <= 2 * K::lanes * K::max_blocks) {
        K::maxpool2_forward(in, out, h, w);
        continue;
      }
      if (p == 0) {  // every window inside the map: row by row, which the compiler vectorises
        for (int oy = 0; oy < ho; ++oy) {
          T* o = out + oy * wo;
          const T* r = in + oy * s * w;
          for (int ox = 0; ox < wo; ++ox) o[ox] = r[ox * s];
          for (int ky = 0; ky < k; ++ky)
            for (int kx = ky == 0 ? 1 : 0; kx < k; ++kx) {
              const T* q = r + ky * w + kx;
              for (int ox = 0; ox < wo; ++ox) {  // later wins only when larger, or NaN: window_argmax's rule
                const T v = q[ox * s];
                o[ox] = v > o[ox] || v != v ? v : o[ox];
              }
            }
        }
        continue;
      }
      for (int oy = 0; oy < ho; ++oy)
        for (int ox = 0; ox < wo; ++ox) out[oy * wo + ox] = in[K::window_argmax(in, h, w, k, s, p, oy, ox)];
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
      if (p == 0 && k == 2 && s == 2 && K::maxpool2_backward_fits(w)) {
        K::maxpool2_backward(in, g, out, h, w, accumulate);
        continue;
      }
      if (!accumulate) std::fill(out, out + std::ptrdiff_t(h) * w, T(0));
      if (p == 0) {  // windows inside the map: the arg-max by pointer, no bounds (window_argmax's rule)
        for (int oy = 0; oy < ho; ++oy)
          for (int ox = 0; ox < wo; ++ox) {
            const T* window = in + oy * s * w + ox * s;
            std::ptrdiff_t best = 0;
            T top = window[0];
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) {
                const T v = window[ky * w + kx];
                const bool take = v > top || v != v;  // selected, not branched on (random data mispredicts)
                top = take ? v : top;
                best = take ? ky * w + kx : best;
              }
            out[window - in + best] += g[oy * wo + ox];
          }
        continue;
      }
      for (int oy = 0; oy < ho; ++oy)
        for (int ox = 0; ox < wo; ++ox) out[K::window_argmax(in, h, w, k, s, p, oy, ox)] += g[oy * wo + ox];
    }
}

template <class T>
void Pooling<T>::upsample_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int f, bool bilinear) {
  const int ho = h * f, wo = w * f;
  const bool x2_kernel = f == 2 && K::upsample2_forward_fits(w), general = bilinear && !x2_kernel;
  const auto ys = taps(general ? ho : 0, h, f), xs = taps(general ? wo : 0, w, f);
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < C; ++c) {
      const T* in = x[b] + std::ptrdiff_t(c) * h * w;
      T* out = y[b] + std::ptrdiff_t(c) * ho * wo;
      if (!bilinear && x2_kernel) {
        K::nearest2_forward(in, out, h, w);
        continue;
      }
      if (!bilinear) {  // each input row widened once, then copied to its other f - 1 output rows
        for (int iy = 0; iy < h; ++iy) {
          T* first = out + std::ptrdiff_t(iy) * f * wo;
          const T* r = in + iy * w;
          for (int ox = 0; ox < wo; ++ox) first[ox] = r[ox / f];
          for (int rep = 1; rep < f; ++rep) std::copy(first, first + wo, first + std::ptrdiff_t(rep) * wo);
        }
        continue;
      }
      if (x2_kernel) {
        K::bilinear2_forward(in, out, h, w);
        continue;
      }
      for (int oy = 0; oy < ho; ++oy) {
        const Tap ty = ys[std::size_t(oy)];
        const T *top = in + ty.lo * w, *bottom = in + ty.hi * w;
        T* o = out + std::ptrdiff_t(oy) * wo;
        for (int ox = 0; ox < wo; ++ox) {
          const Tap tx = xs[std::size_t(ox)];
          const T t = top[tx.lo] * (T(1) - tx.weight_hi) + top[tx.hi] * tx.weight_hi;
          const T u = bottom[tx.lo] * (T(1) - tx.weight_hi) + bottom[tx.hi] * tx.weight_hi;
          o[ox] = t * (T(1) - ty.weight_hi) + u * ty.weight_hi;
        }
      }
    }
}

template <class T>
void Pooling<T>::upsample_backward(Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w, int f, bool bilinear,
                                   bool accumulate) {
  const int ho = h * f, wo = w * f;
  const bool x2_kernel = f == 2 && K::bilinear2_backward_fits(h, w), general = bilinear && !x2_kernel;
  const auto ys = taps(general ? ho : 0, h, f), xs = taps(general ? wo : 0, w, f);
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < C; ++c) {
      const T* g = dy[b] + std::ptrdiff_t(c) * ho * wo;
      T* out = dx[b] + std::ptrdiff_t(c) * h * w;
      if (bilinear && x2_kernel) {
        K::bilinear2_backward(g, out, h, w, accumulate);
        continue;
      }
      if (!bilinear && f == 2 && K::nearest2_fits(w)) {
        K::nearest2_backward(g, out, h, w, accumulate);
        continue;
      }
      if (!accumulate) std::fill(out, out + std::ptrdiff_t(h) * w, T(0));
      for (int oy = 0; oy < ho; ++oy) {
        const T* gr = g + std::ptrdiff_t(oy) * wo;
        if (!bilinear) {
          T* row = out + (oy / f) * w;
          for (int ix = 0; ix < w; ++ix)
            for (int rep = 0; rep < f; ++rep) row[ix] += gr[ix * f + rep];
          continue;
        }
        const Tap ty = ys[std::size_t(oy)];
        T *top = out + ty.lo * w, *bottom = out + ty.hi * w;
        for (int ox = 0; ox < wo; ++ox) {
          const Tap tx = xs[std::size_t(ox)];
          const T t = gr[ox] * (T(1) - ty.weight_hi), u = gr[ox] * ty.weight_hi;
          top[tx.lo] += t * (T(1) - tx.weight_hi);
          top[tx.hi] += t * tx.weight_hi;
          bottom[tx.lo] += u * (T(1) - tx.weight_hi);
          bottom[tx.hi] += u * tx.weight_hi;
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
#pragma omp simd reduction(+ : sum)
      for (int i = 0; i < plane; ++i) sum += double(in[i]);
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
      if (accumulate)
        for (int i = 0; i < plane; ++i) out[i] += v;
      else
        std::fill(out, out + plane, v);
    }
}

}  // namespace unetflow::cpu_impl
