#pragma once
// The CPU pooling room's whole-plane kernels for the common cases (cpu/pooling.hpp calls them): 2 x 2 max pooling
// and x2 bilinear up-sampling of one plane, forward and backward, a row at a time in whole vectors, and the
// window arg-max every max-pooling path shares (the first maximum in row-major order; a NaN wins, as PyTorch).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace unetflow::cpu_impl {

template <class T>
struct PlaneKernels {
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
};

}  // namespace unetflow::cpu_impl
