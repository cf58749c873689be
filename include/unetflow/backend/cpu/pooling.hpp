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

  // The blocks (whole vectors of outputs) the 2 x 2 pooling and x2 bilinear paths work a row in, and the widest row
  // (in blocks) their stack buffers take; wider rows take the general paths.
  static constexpr int lanes = 16, max_blocks = 16;
  // 2 x 2 max pooling of one plane in whole vectors, as maxpool2_backward below reads and writes its rows. NaN
  // by a sum, not in the maximum (which drops it).
  static void maxpool2_forward(const T* in, T* out, int h, int w) {
    const int ho = h / 2, wo = w / 2, blocks = (wo + lanes - 1) / lanes, padded = 2 * lanes * blocks;
    alignas(64) T r0[2 * lanes * max_blocks], r1[2 * lanes * max_blocks], o[lanes * max_blocks];
    std::fill(r0, r0 + padded, T(0));
    std::fill(r1, r1 + padded, T(0));
    for (int oy = 0; oy < ho; ++oy) {
      const T *q0 = in + 2 * oy * w, *q1 = q0 + w;
      const bool inside = (2 * oy + 1) * w + padded <= h * w && oy * wo + padded / 2 <= ho * wo;
      if (!inside) {
        std::copy(q0, q0 + w, r0);
        std::copy(q1, q1 + w, r1);
        q0 = r0, q1 = r1;
      }
      T* t = inside ? out + oy * wo : o;  // in place, the overflow is the next row's start
      for (int blk = 0; blk < blocks; ++blk) {
        const int at = 2 * lanes * blk;
#pragma omp simd
        for (int l = 0; l < lanes; ++l) {
          const T a = q0[at + 2 * l], b = q0[at + 2 * l + 1], c = q1[at + 2 * l], d = q1[at + 2 * l + 1];
          const T top = std::max(std::max(a, b), std::max(c, d)), sum = a + b + c + d;
          // sum is NaN when one of the four is (or when infinities cancel, which the second test tells apart)
          t[at / 2 + l] = sum != sum && (a != a) + (b != b) + (c != c) + (d != d) > 0 ? sum : top;
        }
      }
      if (!inside) std::copy(o, o + wo, out + oy * wo);
    }
  }
  // 2 x 2 max pooling's backward of one plane, a row pair at a time in whole vectors of `lanes` outputs (a row
  // of 14 outputs on its own ran scalar, with mispredicted branches: 7 ns an output). The lanes past the row's end
  // read the rows below, inside the plane, and are dropped; where that would leave the plane (the last row pair),
  // the rows are copied into -inf-padded buffers. A row pair holding a NaN goes through window_argmax.
  static void maxpool2_backward(const T* in, const T* g, T* out, int h, int w, bool accumulate) {
    const int ho = h / 2, wo = w / 2, blocks = (wo + lanes - 1) / lanes, padded = 2 * lanes * blocks;
    alignas(64) T r0[2 * lanes * max_blocks], r1[2 * lanes * max_blocks], gp[lanes * max_blocks];
    alignas(64) T d0[2 * lanes * max_blocks], d1[2 * lanes * max_blocks];
    std::fill(r0, r0 + padded, -std::numeric_limits<T>::infinity());
    std::fill(r1, r1 + padded, -std::numeric_limits<T>::infinity());
    std::fill(gp, gp + padded / 2, T(0));
    for (int oy = 0; oy < ho; ++oy) {
      const T *q0 = in + 2 * oy * w, *q1 = q0 + w, *gq = g + oy * wo;
      T *row0 = out + 2 * oy * w, *row1 = row0 + w;
      const bool inside = (2 * oy + 1) * w + padded <= h * w && oy * wo + padded / 2 <= ho * wo;
      if (!inside) {
        std::copy(q0, q0 + w, r0);
        std::copy(q1, q1 + w, r1);
        std::copy(gq, gq + wo, gp);
        q0 = r0, q1 = r1, gq = gp;
      }
      // Written in place when that stays inside the plane: row 0 first, whose overflow row 1 then overwrites, and
      // row 1's overflow is the next row pairs', written after. (Two passes: within one vector loop the order of
      // the two rows' stores is the compiler's.)
      const bool in_place = inside && !accumulate;
      T *t0 = in_place ? row0 : d0, *t1 = in_place ? row1 : d1;
      int nans = 0;
      for (int blk = 0; blk < blocks; ++blk) {
        const int o = 2 * lanes * blk;
#pragma omp simd reduction(+ : nans)
        for (int l = 0; l < lanes; ++l) {  // the first maximum in row-major order, as PyTorch
          const T v0 = q0[o + 2 * l], v1 = q0[o + 2 * l + 1], v2 = q1[o + 2 * l], v3 = q1[o + 2 * l + 1];
          const T top = std::max(std::max(v0, v1), std::max(v2, v3)), v = gq[o / 2 + l];
          const bool w0 = v0 == top, w1 = !w0 & (v1 == top);
          t0[o + 2 * l] = w0 ? v : T(0);
          t0[o + 2 * l + 1] = w1 ? v : T(0);
          nans += (o / 2 + l < wo) & ((v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3));
        }
      }
      for (int blk = 0; blk < blocks; ++blk) {
        const int o = 2 * lanes * blk;
#pragma omp simd
        for (int l = 0; l < lanes; ++l) {
          const T v0 = q0[o + 2 * l], v1 = q0[o + 2 * l + 1], v2 = q1[o + 2 * l], v3 = q1[o + 2 * l + 1];
          const T top = std::max(std::max(v0, v1), std::max(v2, v3)), v = gq[o / 2 + l];
          const bool w01 = (v0 == top) | (v1 == top), w2 = !w01 & (v2 == top);
          t1[o + 2 * l] = w2 ? v : T(0);
          t1[o + 2 * l + 1] = (w01 | w2) ? T(0) : v;
        }
      }
      if (nans != 0) {
        if (!accumulate) std::fill(row0, row0 + 2 * w, T(0));
        for (int ox = 0; ox < wo; ++ox) out[window_argmax(in, h, w, 2, 2, 0, oy, ox)] += g[oy * wo + ox];
      } else if (in_place) {
      } else if (accumulate) {
#pragma omp simd
        for (int x = 0; x < w; ++x) row0[x] += d0[x], row1[x] += d1[x];
      } else {
        std::copy(d0, d0 + w, row0);
        std::copy(d1, d1 + w, row1);
      }
    }
    if (!accumulate) std::fill(out + 2 * ho * w, out + std::ptrdiff_t(h) * w, T(0));  // rows no window reads
  }
  // x2 bilinear (align_corners = false) of one h x w plane, and its transpose. Every output is 1/4 and 3/4 of two
  // neighbours along each side (the edges repeat), so a row is computed from an edge-padded copy in whole vectors
  // (the general per-element taps ran at a fifth of the memory bandwidth). Horizontal first, then vertical, as
  // PyTorch.
  static void bilinear2_forward(const T* in, T* out, int h, int w) {
    const int blocks = (w + lanes - 1) / lanes, wo = 2 * w;
    alignas(64) T pad[lanes * max_blocks + 2] = {}, rows[3][2 * lanes * max_blocks];
    const auto widen = [&](int j, T* row) {  // row = the x2 horizontal interpolation of input row j
      pad[0] = in[j * w];
      std::copy(in + j * w, in + j * w + w, pad + 1);
      pad[w + 1] = in[j * w + w - 1];
      for (int blk = 0; blk < blocks; ++blk) {
        const T* q = pad + lanes * blk;
        T* r = row + 2 * lanes * blk;
#pragma omp simd
        for (int l = 0; l < lanes; ++l) {
          r[2 * l] = T(0.25) * q[l] + T(0.75) * q[l + 1];
          r[2 * l + 1] = T(0.75) * q[l + 1] + T(0.25) * q[l + 2];
        }
      }
    };
    // rows[(j + 1) % 3] holds input row j widened; rows above and below the map repeat the edge.
    widen(0, rows[1]);
    std::copy(rows[1], rows[1] + wo, rows[0]);
    for (int j = 0; j < h; ++j) {
      const T *above = rows[j % 3], *here = rows[(j + 1) % 3];
      T* below = rows[(j + 2) % 3];
      if (j + 1 < h)
        widen(j + 1, below);
      else
        std::copy(here, here + wo, below);
      T *o0 = out + std::ptrdiff_t(2 * j) * wo, *o1 = o0 + wo;
#pragma omp simd
      for (int x = 0; x < wo; ++x) {
        o0[x] = T(0.25) * above[x] + T(0.75) * here[x];
        o1[x] = T(0.75) * here[x] + T(0.25) * below[x];
      }
    }
  }
  static void bilinear2_backward(const T* dy, T* dx, int h, int w, bool accumulate) {
    const int blocks = (w + lanes - 1) / lanes, wo = 2 * w;
    alignas(64) T pad[2 * lanes * max_blocks + 2] = {}, row[lanes * max_blocks];
    for (int j = 0; j < h; ++j) {
      // the vertical transpose: input row j collects output rows 2j - 1 ... 2j + 2 (the edges repeat) ...
      const T *g0 = dy + std::ptrdiff_t(std::max(2 * j - 1, 0)) * wo, *g1 = dy + std::ptrdiff_t(2 * j) * wo,
              *g2 = g1 + wo, *g3 = dy + std::ptrdiff_t(std::min(2 * j + 2, 2 * h - 1)) * wo;
#pragma omp simd
      for (int x = 0; x < wo; ++x) pad[x + 1] = T(0.25) * g0[x] + T(0.75) * g1[x] + T(0.75) * g2[x] + T(0.25) * g3[x];
      pad[0] = pad[1];
      pad[wo + 1] = pad[wo];
      // ... then the horizontal one
      for (int blk = 0; blk < blocks; ++blk) {
        const T* q = pad + 2 * lanes * blk;
        T* r = row + lanes * blk;
#pragma omp simd
        for (int l = 0; l < lanes; ++l)
          r[l] = T(0.25) * q[2 * l] + T(0.75) * q[2 * l + 1] + T(0.75) * q[2 * l + 2] + T(0.25) * q[2 * l + 3];
      }
      T* d = dx + std::ptrdiff_t(j) * w;
      if (accumulate)
        for (int x = 0; x < w; ++x) d[x] += row[x];
      else
        std::copy(row, row + w, d);
    }
  }
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
      if (p == 0 && k == 2 && s == 2 && w <= 2 * lanes * max_blocks) {
        maxpool2_forward(in, out, h, w);
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
      if (p == 0 && k == 2 && s == 2 && w <= 2 * lanes * max_blocks) {
        maxpool2_backward(in, g, out, h, w, accumulate);
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
        for (int ox = 0; ox < wo; ++ox) out[window_argmax(in, h, w, k, s, p, oy, ox)] += g[oy * wo + ox];
    }
}

template <class T>
void Pooling<T>::upsample_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int f, bool bilinear) {
  const int ho = h * f, wo = w * f;
  const auto ys = taps(bilinear ? ho : 0, h, f), xs = taps(bilinear ? wo : 0, w, f);
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < C; ++c) {
      const T* in = x[b] + std::ptrdiff_t(c) * h * w;
      T* out = y[b] + std::ptrdiff_t(c) * ho * wo;
      if (!bilinear) {  // each input row widened once, then copied to its other f - 1 output rows
        for (int iy = 0; iy < h; ++iy) {
          T* first = out + std::ptrdiff_t(iy) * f * wo;
          const T* r = in + iy * w;
          if (f == 2) {
#pragma omp simd
            for (int ix = 0; ix < w; ++ix) first[2 * ix] = first[2 * ix + 1] = r[ix];
          } else {
            for (int ox = 0; ox < wo; ++ox) first[ox] = r[ox / f];
          }
          for (int rep = 1; rep < f; ++rep) std::copy(first, first + wo, first + std::ptrdiff_t(rep) * wo);
        }
        continue;
      }
      if (f == 2 && w <= lanes * max_blocks) {
        bilinear2_forward(in, out, h, w);
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
  const auto ys = taps(bilinear ? ho : 0, h, f), xs = taps(bilinear ? wo : 0, w, f);
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < C; ++c) {
      const T* g = dy[b] + std::ptrdiff_t(c) * ho * wo;
      T* out = dx[b] + std::ptrdiff_t(c) * h * w;
      if (bilinear && f == 2 && w <= lanes * max_blocks) {
        bilinear2_backward(g, out, h, w, accumulate);
        continue;
      }
      if (!accumulate) std::fill(out, out + std::ptrdiff_t(h) * w, T(0));
      for (int oy = 0; oy < ho; ++oy) {
        const T* gr = g + std::ptrdiff_t(oy) * wo;
        if (!bilinear) {
          T* row = out + (oy / f) * w;
          if (f == 2) {
#pragma omp simd
            for (int ix = 0; ix < w; ++ix) row[ix] += gr[2 * ix] + gr[2 * ix + 1];
          } else {
            for (int ix = 0; ix < w; ++ix)
              for (int rep = 0; rep < f; ++rep) row[ix] += gr[ix * f + rep];
          }
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
