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
  // the rows are copied into -inf-padded buffers. A row pair holding a NaN goes through window_argmax; the NaN
  // test is kept per lane and reduced after the loop (a reduction inside it kept GCC from vectorising: 4x slower).
  static void maxpool2_backward(const T* in, const T* g, T* out, int h, int w, bool accumulate) {
    const int ho = h / 2, wo = w / 2, blocks = (wo + lanes - 1) / lanes, padded = 2 * lanes * blocks;
    alignas(64) T r0[2 * lanes * max_blocks], r1[2 * lanes * max_blocks], gp[lanes * max_blocks];
    alignas(64) T d0[2 * lanes * max_blocks], d1[2 * lanes * max_blocks];
    alignas(64) int nan_in[lanes * max_blocks];
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
#pragma omp simd
        for (int l = 0; l < lanes; ++l) {  // the first maximum in row-major order, as PyTorch
          const T v0 = q0[o + 2 * l], v1 = q0[o + 2 * l + 1], v2 = q1[o + 2 * l], v3 = q1[o + 2 * l + 1];
          const T top = std::max(std::max(v0, v1), std::max(v2, v3)), v = gq[o / 2 + l];
          const bool w0 = v0 == top, w1 = !w0 & (v1 == top);
          t0[o + 2 * l] = w0 ? v : T(0);
          t0[o + 2 * l + 1] = w1 ? v : T(0);
          nan_in[o / 2 + l] = (o / 2 + l < wo) & ((v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3));
        }
      }
#pragma omp simd reduction(| : nans)
      for (int i = 0; i < padded / 2; ++i) nans |= nan_in[i];
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
  // neighbours along each side (the edges repeat), horizontal first, then vertical, as PyTorch. Rows are short
  // (a 14-wide map), so both work in whole vectors that never run past a span: `spans` steps 16 at a time and lets
  // the last block overlap the one before (same values written twice), and the forward widens rows in groups
  // long enough for one vector. (Per-row loops ran at a fifth to a half of a copy's bandwidth: scalar remainders,
  // and padded row copies read back before their stores had landed.)
  static constexpr int widened_floats = 8192;  // the forward's stack buffer of widened rows
  static bool bilinear2_forward_fits(int h, int w) {
    return w >= 8 && (w >= lanes || h >= 2) && 8 * w <= widened_floats;
  }
  static void bilinear2_forward(const T* in, T* out, int h, int w) {
    const int wo = 2 * w, group = w >= lanes ? 1 : 2, band = std::max(group, widened_floats / wo - 2);
    alignas(64) T widened[widened_floats];
    for (int b0 = 0; b0 < h; b0 += band) {  // output rows of input rows [b0, b1) need widened rows b0 - 1 ... b1
      const int b1 = std::min(b0 + band, h), r0 = std::max(b0 - 1, 0), r1 = std::min(b1 + 1, h);
      for (int r = r0; r < r1; r += group) {
        const int first = std::min(r, r1 - group);  // the last group may overlap the one before
        widen(in, widened + (first - r0) * wo, h, w, first, group);
      }
      for (int j = b0; j < b1; ++j) {
        const T *above = widened + (std::max(j - 1, 0) - r0) * wo, *here = widened + (j - r0) * wo,
                *below = widened + (std::min(j + 1, h - 1) - r0) * wo;
        T *o0 = out + std::ptrdiff_t(2 * j) * wo, *o1 = o0 + wo;
        spans(wo, [&](int s) {
#pragma omp simd
          for (int l = 0; l < lanes; ++l) o0[s + l] = T(0.25) * above[s + l] + T(0.75) * here[s + l];
        });
        spans(wo, [&](int s) {
#pragma omp simd
          for (int l = 0; l < lanes; ++l) o1[s + l] = T(0.75) * here[s + l] + T(0.25) * below[s + l];
        });
      }
    }
  }
  // The transpose: input row j collects output rows 2j - 1 ... 2j + 2 (vertical, into a ring of three rows, filled
  // two rows ahead so their stores have landed before the strided reads below) and then columns 2l - 1 ... 2l + 2
  // (the edges repeat), in whole vectors whose lanes past the row's end write into the next rows (written after),
  // wherever that stays inside the plane, else into a row buffer. Rows of 8 to 256 inputs (bilinear2_backward_fits);
  // others take the general path of cpu/pooling.hpp.
  static bool bilinear2_backward_fits(int w) { return w >= lanes / 2 && w <= lanes * max_blocks; }
  static void bilinear2_backward(const T* dy, T* dx, int h, int w, bool accumulate) {
    const int wo = 2 * w, span = lanes * ((w + lanes - 1) / lanes);
    alignas(64) T ring[3][2 * lanes * max_blocks + 2 * lanes], row[lanes * max_blocks];
    for (auto& r : ring) std::fill(r, r + lanes, T(0)), std::fill(r + lanes + wo, r + 2 * lanes + 2 * span, T(0));
    const auto vertical = [&](int j) {
      const T *g0 = dy + std::ptrdiff_t(std::max(2 * j - 1, 0)) * wo, *g1 = dy + std::ptrdiff_t(2 * j) * wo,
              *g2 = g1 + wo, *g3 = dy + std::ptrdiff_t(std::min(2 * j + 2, 2 * h - 1)) * wo;
      T* v = ring[j % 3] + lanes;
      spans(wo, [&](int s) {
#pragma omp simd
        for (int l = 0; l < lanes; ++l)
          v[s + l] = T(0.25) * g0[s + l] + T(0.75) * g1[s + l] + T(0.75) * g2[s + l] + T(0.25) * g3[s + l];
      });
    };
    for (int j = 0; j < std::min(h, 2); ++j) vertical(j);
    for (int j = 0; j < h; ++j) {
      if (j + 2 < h) vertical(j + 2);
      const T* v = ring[j % 3] + lanes;
      T* d = dx + std::ptrdiff_t(j) * w;
      const bool in_place = !accumulate && j * w + span <= h * w;
      T* o = in_place ? d : row;
      for (int s = 0; s < span; s += lanes) {
#pragma omp simd
        for (int l = 0; l < lanes; ++l) {
          const int p = s + l;
          const T c0 = v[2 * p - 1], c1 = v[2 * p], c2 = v[2 * p + 1], c3 = v[2 * p + 2];
          o[p] = T(0.25) * (p == 0 ? c1 : c0) + T(0.75) * c1 + T(0.75) * c2 + T(0.25) * (p == w - 1 ? c2 : c3);
        }
      }
      if (!in_place) {
#pragma omp simd
        for (int x = 0; x < w; ++x) d[x] = accumulate ? d[x] + row[x] : row[x];
      }
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

 private:
  // f(s) for s = 0, 16, 32, ... with the last block moved back to end at n (n >= lanes): whole vectors only.
  template <class F>
  static void spans(int n, F&& f) {
    for (int s = 0;; s += lanes) {
      s = std::min(s, n - lanes);
      f(s);
      if (s == n - lanes) return;
    }
  }
  // Rows [r, r + g) of the plane (g * w >= lanes inputs, contiguous) widened x2 into `to`, 2w per row. A block's
  // neighbours past the plane's first or last input come from a small copy (the edge column's value is unused).
  static void widen(const T* in, T* to, int h, int w, int r, int g) {
    const int n = g * w;
    const T* q = in + r * w;
    alignas(64) T edge[lanes + 2];
    spans(n, [&](int s) {
      const T* src = q + s;
      const bool at_start = r == 0 && s == 0, at_end = r + g == h && s == n - lanes;
      if (at_start || at_end) {
        edge[0] = at_start ? src[0] : src[-1];
        std::copy(src, src + lanes, edge + 1);
        edge[lanes + 1] = at_end ? src[lanes - 1] : src[lanes];
        src = edge + 1;
      }
#pragma omp simd
      for (int l = 0; l < lanes; ++l) {
        const int col = s + l >= w ? s + l - w : s + l;  // g <= 2
        const T here = src[l], left = col == 0 ? here : src[l - 1], right = col == w - 1 ? here : src[l + 1];
        to[2 * (s + l)] = T(0.25) * left + T(0.75) * here;
        to[2 * (s + l) + 1] = T(0.75) * here + T(0.25) * right;
      }
    });
  }
};

}  // namespace unetflow::cpu_impl
