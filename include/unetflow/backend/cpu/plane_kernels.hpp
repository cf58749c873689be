#pragma once
// The CPU pooling room's whole-plane kernels for the common cases (cpu/pooling.hpp calls them): 2 x 2 max pooling
// and x2 up-sampling (nearest and bilinear) of one plane, forward and backward, in whole vectors, and the window
// arg-max every max-pooling path shares (the first maximum in row-major order; a NaN wins, as PyTorch).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "plane_blocks.hpp"

namespace unetflow::cpu_impl {

template <class T>
struct PlaneKernels : PlaneBlocks {
  // The widest row (in blocks of `lanes`) the stack buffers of the max-pool and bilinear backward passes take;
  // wider rows take the general paths.
  static constexpr int max_blocks = 16;
  // The stack buffer of the x2 up-sampling passes: a band of rows, up-sampled vertically (forward) or summed
  // (backward).
  static constexpr int band_floats = 8192;
  // 2 x 2 max pooling of one plane in whole vectors of `lanes` outputs, whose lanes past a row's end read the rows
  // below and write outputs the next rows then overwrite (the last row pair through padded buffers). NaN by a sum,
  // not in the maximum (which drops it).
  static void maxpool2_forward(const T* in, T* out, int h, int w) {
    with_blocks<lanes>(w / 2, [&]<int B>() { maxpool2_forward<B>(in, out, h, w); });
  }
  template <int Blocks>
  static void maxpool2_forward(const T* in, T* out, int h, int w) {
    const int ho = h / 2, wo = w / 2, blocks = Blocks ? Blocks : (wo + lanes - 1) / lanes, padded = 2 * lanes * blocks;
    alignas(64) T r0[2 * lanes * max_blocks], r1[2 * lanes * max_blocks], o[lanes * max_blocks];
    const bool ask = asks_ahead();
    for (int oy = 0; oy < ho; ++oy) {
      const T *q0 = in + 2 * oy * w, *q1 = q0 + w;
      const bool inside = (2 * oy + 1) * w + padded <= h * w && oy * wo + padded / 2 <= ho * wo;
      if (!inside) q0 = padded_copy(q0, w, r0, padded), q1 = padded_copy(q1, w, r1, padded);
      T* t = inside ? out + oy * wo : o;  // in place, the overflow is the next row's start
      for (int blk = 0; blk < blocks; ++blk) {
        const int at = 2 * lanes * blk;
        if (ask) ask_ahead(q1 + at, false), ask_ahead(q1 + at + 16, false);
#pragma omp simd
        for (int l = 0; l < lanes; ++l) {
          const T a = q0[at + 2 * l], b = q0[at + 2 * l + 1], c = q1[at + 2 * l], d = q1[at + 2 * l + 1];
          const T top = std::max(std::max(a, b), std::max(c, d)), sum = a + b + c + d;
          // sum is NaN when one of the four is (or when infinities cancel, which the second test tells apart)
          t[at / 2 + l] = sum != sum && (a != a) + (b != b) + (c != c) + (d != d) > 0 ? sum : top;
        }
      }
      if (!inside) {
        T* row = out + oy * wo;
#pragma omp simd
        for (int c = 0; c < padded / 2; ++c)
          if (c < wo) row[c] = o[c];
      }
    }
  }
  // 2 x 2 max pooling's backward of one plane, a row pair at a time in blocks of L windows that stay inside the
  // rows (the last block moved back to end at the row's end, rewriting a few outputs with the same values), both
  // rows written in one pass. A NaN anywhere sends the plane (the row pair, when accumulating) to window_argmax;
  // the test is kept per lane and reduced after the loops (a reduction inside them kept GCC from vectorising).
  static void maxpool2_backward(const T* in, const T* g, T* out, int h, int w, bool accumulate) {
    widest_block(w / 2, [&]<int L>() {
      with_blocks<L>(w / 2, [&]<int B>() { maxpool2_backward_rows<L, B>(in, g, out, h, w, accumulate); });
    });
  }
  static bool maxpool2_backward_fits(int w) { return w >= 8 && w <= 2 * lanes * max_blocks; }
  // x2 nearest up-sampling of one plane (the forward: upsample2_forward below) and its transpose: each input the
  // sum of its 2 x 2 block, in PyTorch's order, in blocks of L inputs inside a row, the last moved back (a row loop
  // with a scalar remainder took twice as long in cache). The transpose takes rows of 4 inputs or more.
  static bool nearest2_fits(int w) { return w >= 4; }
  static void nearest2_forward(const T* in, T* out, int h, int w) { upsample2_forward<false>(in, out, h, w); }
  static void nearest2_backward(const T* g, T* out, int h, int w, bool accumulate) {
    const bool ask = asks_ahead();
    widest_block(w, [&]<int L>() {
      for (int iy = 0; iy < h; ++iy) {
        const T *g0 = g + std::ptrdiff_t(4) * iy * w, *g1 = g0 + 2 * w;
        T* row = out + iy * w;
        int done = 0;  // accumulating, the last block adds only what the one before did not
        spans<L>(w, [&](int s) {
          if (ask) ask_ahead(g1 + 2 * s, false);
#pragma omp simd
          for (int l = 0; l < L; ++l) {
            const int o = 2 * (s + l);
            const T v = (g0[o] + g0[o + 1]) + (g1[o] + g1[o + 1]);
            if (!accumulate)
              row[s + l] = v;
            else if (s + l >= done)
              row[s + l] += v;
          }
          done = s + L;
        });
      }
    });
  }
  // x2 bilinear (align_corners = false) of one h x w plane, and its transpose. Every output is 1/4 and 3/4 of two
  // neighbours along each side (the edges repeat); the forward blends vertically first (upsample2_forward below).
  static void bilinear2_forward(const T* in, T* out, int h, int w) { upsample2_forward<true>(in, out, h, w); }
  static bool upsample2_forward_fits(int w) { return w >= 4 && w <= band_floats / 2; }  // both forwards
  // The transpose, a band of rows at a time: input row j collects output rows 2j - 1 ... 2j + 2 (vertical), then,
  // flat over the band, columns 2c - 1 ... 2c + 2 (the edges repeat; a lane's column c told by the fraction of
  // (i + 1/2) / w, below 1/w at c = 0 and above 1 - 1/w at c = w - 1, in float arithmetic exact enough since it is at
  // least 1/(2w) from either bound; row by row took 36 % longer in cache). Rows of 8 to
  // 256 inputs, at least two of them below 16 (bilinear2_backward_fits); others take the general path of
  // cpu/pooling.hpp.
  static bool bilinear2_backward_fits(int h, int w) {
    return w >= 8 && (w >= lanes || h >= 2) && w <= lanes * max_blocks;
  }
  static void bilinear2_backward(const T* dy, T* dx, int h, int w, bool accumulate) {
    with_blocks<lanes>(2 * w, [&]<int B>() { bilinear2_backward<B>(dy, dx, h, w, accumulate); });
  }
  template <int Blocks>
  static void bilinear2_backward(const T* dy, T* dx, int h, int w, bool accumulate) {
    const int wo = 2 * w, per_band = band_floats / wo, bands = h <= per_band ? 1 : (h + per_band - 1) / per_band,
              rows = bands == 1 ? h : (h + bands - 1) / bands;
    alignas(64) T padded[band_floats + 2 * lanes];  // rows of dy summed vertically, a band at a time
    T* summed = padded + lanes;                     // the taps one past a band's ends are read (zeros), never used
    std::fill(padded, summed, T(0));
    const float inv_w = 1.0f / float(w);
    const bool ask = asks_ahead();
    for (int j0 = 0; j0 < h; j0 += rows) {  // bands of equal size: every band holds at least lanes inputs
      const int j1 = std::min(j0 + rows, h), n = (j1 - j0) * w;
      const T* g1 = dy + std::ptrdiff_t(2 * j0) * wo;  // rows walked by pointer: with indices GCC spilled them
      T* v = summed;
      for (int j = j0; j < j1; ++j, g1 += 2 * wo, v += wo) {
        const T *g2 = g1 + wo, *g0 = j > 0 ? g1 - wo : g1, *g3 = j + 1 < h ? g2 + wo : g2;
        spans<lanes, Blocks>(wo, [&](int s) {
          if (ask) ask_ahead(g3 + s, false);
#pragma omp simd
          for (int l = 0; l < lanes; ++l)
            v[s + l] = T(0.25) * g0[s + l] + T(0.75) * g1[s + l] + T(0.75) * g2[s + l] + T(0.25) * g3[s + l];
        });
      }
      summed[2 * n] = T(0);
      T* d = dx + std::ptrdiff_t(j0) * w;
      int done = 0;  // accumulating, the last block adds only what the one before did not
      spans(n, [&](int s) {
#pragma omp simd
        for (int l = 0; l < lanes; ++l) {  // flat over the band
          const int i = s + l;
          const float q = (float(i) + 0.5f) * inv_w, f = q - float(int(q));  // (column + 1/2) / w
          const T before = summed[2 * i - 1], c1 = summed[2 * i], c2 = summed[2 * i + 1], after = summed[2 * i + 2];
          const T c0 = f < inv_w ? c1 : before, c3 = f > 1.0f - inv_w ? c2 : after;
          const T v = T(0.25) * c0 + T(0.75) * c1 + T(0.75) * c2 + T(0.25) * c3;
          if (!accumulate)
            d[i] = v;
          else if (i >= done)
            d[i] += v;
        }
        done = s + lanes;
      });
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
  // The first n of a row, then zeros, to `width` in buffer: whole vectors with masked lanes, so neither a call
  // (std::copy of a short row is one) nor a read past the row.
  static const T* padded_copy(const T* row, int n, T* buffer, int width) {
#pragma omp simd
    for (int c = 0; c < width; ++c) buffer[c] = c < n ? row[c] : T(0);
    return buffer;
  }
  static bool any(const int* flags) {
    int r = 0;
    for (int l = 0; l < lanes; ++l) r |= flags[l];
    return r != 0;
  }
  template <int L, int B>
  static void maxpool2_backward_rows(const T* in, const T* g, T* out, int h, int w, bool accumulate) {
    const int ho = h / 2, wo = w / 2;
    alignas(64) T d0[2 * lanes * max_blocks], d1[2 * lanes * max_blocks];
    alignas(64) int bad[lanes] = {};
    const bool ask = asks_ahead();
    for (int oy = 0; oy < ho; ++oy) {
      const T *q0 = in + 2 * oy * w, *q1 = q0 + w, *gq = g + oy * wo;
      T *row0 = out + 2 * oy * w, *row1 = row0 + w;
      T *t0 = accumulate ? d0 : row0, *t1 = accumulate ? d1 : row1;
      spans<L, B>(wo, [&](int s) {
        if (ask) ask_ahead(q1 + 2 * s, false), ask_ahead(row1 + 2 * s, true);
#pragma omp simd
        for (int l = 0; l < L; ++l) {  // the first maximum in row-major order, as PyTorch (no NaN here)
          const int o = 2 * (s + l);
          const T v0 = q0[o], v1 = q0[o + 1], v2 = q1[o], v3 = q1[o + 1];
          const T m01 = std::max(v0, v1), m012 = std::max(m01, v2), top = std::max(m012, v3), v = gq[s + l];
          t0[o] = v0 == top ? v : T(0);
          t0[o + 1] = ((v1 == top) & (v0 < top)) ? v : T(0);
          t1[o] = ((v2 == top) & (m01 < top)) ? v : T(0);
          t1[o + 1] = m012 < top ? v : T(0);
          bad[l] |= int(std::isunordered(v0, v1)) | int(std::isunordered(v2, v3));
        }
      });
      if (!accumulate) {
        if (w & 1) row0[w - 1] = row1[w - 1] = T(0);  // the column no window reads
        continue;
      }
      if (any(bad)) {
        for (int ox = 0; ox < wo; ++ox) out[window_argmax(in, h, w, 2, 2, 0, oy, ox)] += gq[ox];
        std::fill(bad, bad + lanes, 0);
        continue;
      }
#pragma omp simd
      for (int x = 0; x < 2 * wo; ++x) row0[x] += d0[x], row1[x] += d1[x];
    }
    if (accumulate) return;
    std::fill(out + 2 * ho * w, out + std::ptrdiff_t(h) * w, T(0));  // the row no window reads
    if (any(bad)) {
      std::fill(out, out + std::ptrdiff_t(h) * w, T(0));
      for (int oy = 0; oy < ho; ++oy)
        for (int ox = 0; ox < wo; ++ox) out[window_argmax(in, h, w, 2, 2, 0, oy, ox)] += g[oy * wo + ox];
    }
  }
  // x2 up-sampling forward of one plane, in bands of input rows. Each input row becomes two rows of V, the band's
  // vertical up-sampling (nearest: the row twice; bilinear: 1/4 and 3/4 of it and the row above, then below), in a
  // stack buffer; then the output is V widened flat, out[2i] and out[2i + 1] from V[i] (bilinear: and V[i - 1],
  // V[i + 1]), so the stores are whole vectors at the alignment of the plane, not two short rows a time (which took
  // twice as long where stores miss the L1). The bilinear taps at a row's ends read the next row's V; those two
  // outputs a row are rewritten after. Rows of up to 4 vectors run past their end (the next row rewrites it), read
  // from a padded copy where that would leave the plane; wider rows end with a block moved back.
  template <bool Bilinear>
  static void upsample2_forward(const T* in, T* out, int h, int w) {
    with_blocks<lanes>(w, [&]<int B>() { upsample2_forward<Bilinear, B>(in, out, h, w); });
  }
  template <bool Bilinear, int Blocks>
  static void upsample2_forward(const T* in, T* out, int h, int w) {
    constexpr int pad = (Blocks ? Blocks : 1) * lanes;
    alignas(64) T buffer[band_floats + 2 * lanes], tail[3 * pad];
    T* V = buffer + lanes;
    V[-1] = T(0);  // read by the first tap (its output is rewritten), as V[n] is
    const int wo = 2 * w, rows = std::ptrdiff_t(h) * wo <= band_floats ? h : band_floats / wo;
    const std::ptrdiff_t last = std::ptrdiff_t(h) * w - pad;  // the last row start whole vectors may read from
    const bool ask = asks_ahead();
    const auto readable = [&](const T* row, int slot) -> const T* {  // the row, or its padded copy
      return !Blocks || row - in <= last ? row : padded_copy(row, w, tail + slot * pad, pad);
    };
    // Rows j in [inner_from, inner_to) read their rows (and those above and below) in place, without a test each.
    const int inner_from = Bilinear,
              inner_to = int(std::min<std::ptrdiff_t>(h, Blocks ? (last + w) / w : h)) - Bilinear;
    for (int j0 = 0; j0 < h; j0 += rows) {
      const int j1 = std::min(j0 + rows, h), n = (j1 - j0) * wo;
      for (int j = j0; j < j1; ++j) {
        const T* row = in + std::ptrdiff_t(j) * w;
        const bool inner = j >= inner_from && j < inner_to;
        const T *mid = inner ? row : readable(row, 0), *up = mid, *down = mid;
        if constexpr (Bilinear) {
          up = inner ? row - w : readable(in + std::ptrdiff_t(std::max(j - 1, 0)) * w, 1);
          down = inner ? row + w : readable(in + std::ptrdiff_t(std::min(j + 1, h - 1)) * w, 2);
        }
        T *even = V + (j - j0) * wo, *odd = even + w;
        if (ask) ask_ahead(row, false);
        const auto even_at = [&](int c) {
#pragma omp simd
          for (int l = 0; l < lanes; ++l)
            even[c + l] = Bilinear ? T(0.25) * up[c + l] + T(0.75) * mid[c + l] : mid[c + l];
        };
        const auto odd_at = [&](int c) {
#pragma omp simd
          for (int l = 0; l < lanes; ++l)
            odd[c + l] = Bilinear ? T(0.75) * mid[c + l] + T(0.25) * down[c + l] : mid[c + l];
        };
        if constexpr (Blocks > 0) {  // the even row first: its overflow lands in the odd row
          for (int c = 0; c < pad; c += lanes) even_at(c);
          for (int c = 0; c < pad; c += lanes) odd_at(c);
        } else {  // wide rows: the last block moved back, nothing past the row
          spans(w, even_at);
          spans(w, odd_at);
        }
      }
      V[n] = T(0);
      const T* v = V;
      T* o = out + std::ptrdiff_t(2 * j0) * wo;
      const auto widen = [&]<int L>() {
        spans<L>(n, [&](int s) {
          if (ask)
            for (int p = 0; p < 2 * L; p += 16) ask_ahead(o + 2 * s + p, true);  // a line of floats each
#pragma omp simd
          for (int l = 0; l < L; ++l) {
            const int i = s + l;
            if constexpr (Bilinear) {
              const T here = T(0.75) * v[i];
              o[2 * i] = T(0.25) * v[i - 1] + here;
              o[2 * i + 1] = here + T(0.25) * v[i + 1];
            } else {
              o[2 * i] = o[2 * i + 1] = v[i];
            }
          }
        });
      };
      if (n >= 2 * lanes)  // two vectors a step: 3 % of the bilinear pass's time in cache
        widen.template operator()<2 * lanes>();
      else
        n >= lanes ? widen.template operator()<lanes>() : widen.template operator()<lanes / 2>();  // n >= 8 (w >= 4)
      if constexpr (Bilinear)
        for (int r = 0; r < 2 * (j1 - j0); ++r) {  // the row ends: the edge input repeats
          o[r * wo] = v[r * w];
          o[r * wo + wo - 1] = v[r * w + w - 1];
        }
    }
  }
};

}  // namespace unetflow::cpu_impl
