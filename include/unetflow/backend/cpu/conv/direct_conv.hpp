#pragma once
// Direct stride-1 convolution for layers with very few output channels (the UNet's last 3x3 convolution, 64 -> 1).
// im2col would write ci * k * k values per pixel to be read by a GEMM with co rows: 1.8 MB per 28x28 sample for
// one dot product each. Here each input channel is copied once into a zero-bordered plane whose rows have the
// padded width `pitch`; in that layout every tap (ky, kx) is one contiguous, vectorised pass over the whole map,
// offset by ky * pitch + kx (the pitch - wo columns past each output row are computed and dropped).
// Weights w[co][ci][k][k]; one sample per call (the caller runs samples in parallel).
#include <algorithm>
#include <cstddef>

#include "../../common.hpp"

namespace unetflow::direct {

struct Layout {
  int pitch, rows;      // the padded plane: rows x pitch, with one spare row for the dropped columns' reads
  std::ptrdiff_t span;  // ho * pitch: the positions one tap pass covers
  explicit Layout(const ConvGeom& g)
      : pitch(g.wi + 2 * g.p), rows(g.hi + 2 * g.p + 1), span(std::ptrdiff_t(g.ho) * (g.wi + 2 * g.p)) {}
  std::ptrdiff_t plane() const { return std::ptrdiff_t(rows) * pitch; }
};
// Values of scratch forward and weight_gradient need.
inline std::ptrdiff_t scratch_size(const ConvGeom& g) {
  const Layout l(g);
  return l.plane() + std::ptrdiff_t(g.co) * l.span;
}

// Copies channel plane x[hi][wi] into the interior of the zero-bordered padded plane (border written by the caller).
template <class T>
void pad_plane(const T* x, const ConvGeom& g, const Layout& l, T* padded) {
  for (int r = 0; r < g.hi; ++r)
    std::copy(x + std::ptrdiff_t(r) * g.wi, x + std::ptrdiff_t(r + 1) * g.wi,
              padded + std::ptrdiff_t(r + g.p) * l.pitch + g.p);
}

// y[co][ho][wo] (+)= w * x for one sample x[ci][hi][wi].
template <class T>
void forward(const T* x, const T* w, T* y, const ConvGeom& g, bool accumulate, T* scratch) {
  const Layout l(g);
  T* padded = scratch;
  T* acc = scratch + l.plane();  // [co][span]
  std::fill(padded, padded + l.plane(), T(0));
  std::fill(acc, acc + g.co * l.span, T(0));
  for (int c = 0; c < g.ci; ++c) {
    pad_plane(x + std::ptrdiff_t(c) * g.hi * g.wi, g, l, padded);
    for (int o = 0; o < g.co; ++o) {
      const T* taps = w + (std::ptrdiff_t(o) * g.ci + c) * g.k * g.k;
      T* out = acc + o * l.span;
      if (g.k == 3) {  // all nine taps in one pass: one load and store of the sums per nine products
        const T* r0 = padded;
        const T *r1 = r0 + l.pitch, *r2 = r1 + l.pitch;
#pragma omp simd
        for (std::ptrdiff_t i = 0; i < l.span; ++i)
          out[i] += taps[0] * r0[i] + taps[1] * r0[i + 1] + taps[2] * r0[i + 2] + taps[3] * r1[i] +
                    taps[4] * r1[i + 1] + taps[5] * r1[i + 2] + taps[6] * r2[i] + taps[7] * r2[i + 1] +
                    taps[8] * r2[i + 2];
        continue;
      }
      for (int ky = 0; ky < g.k; ++ky)
        for (int kx = 0; kx < g.k; ++kx) {
          const T a = taps[ky * g.k + kx];
          const T* in = padded + std::ptrdiff_t(ky) * l.pitch + kx;
#pragma omp simd
          for (std::ptrdiff_t i = 0; i < l.span; ++i) out[i] += a * in[i];
        }
    }
  }
  for (int o = 0; o < g.co; ++o)
    for (int oy = 0; oy < g.ho; ++oy) {
      const T* src = acc + o * l.span + std::ptrdiff_t(oy) * l.pitch;
      T* dst = y + (std::ptrdiff_t(o) * g.ho + oy) * g.wo;
      for (int ox = 0; ox < g.wo; ++ox) dst[ox] = accumulate ? dst[ox] + src[ox] : src[ox];
    }
}

// dw[co][ci][k][k] += dy * x^T for one sample: per weight, one dot product of the output gradient (laid out with
// the padded pitch, zero in the dropped columns) with the shifted padded input.
template <class T>
void weight_gradient(const T* x, const T* dy, T* dw, const ConvGeom& g, T* scratch) {
  const Layout l(g);
  T* padded = scratch;
  T* grad = scratch + l.plane();  // [co][span]
  std::fill(padded, padded + l.plane(), T(0));
  std::fill(grad, grad + g.co * l.span, T(0));
  for (int o = 0; o < g.co; ++o)
    for (int oy = 0; oy < g.ho; ++oy)
      std::copy(dy + (std::ptrdiff_t(o) * g.ho + oy) * g.wo, dy + (std::ptrdiff_t(o) * g.ho + oy + 1) * g.wo,
                grad + o * l.span + std::ptrdiff_t(oy) * l.pitch);
  for (int c = 0; c < g.ci; ++c) {
    pad_plane(x + std::ptrdiff_t(c) * g.hi * g.wi, g, l, padded);
    for (int o = 0; o < g.co; ++o) {
      T* taps = dw + (std::ptrdiff_t(o) * g.ci + c) * g.k * g.k;
      const T* gr = grad + o * l.span;
      if (g.k == 3) {  // the nine sums in one pass over the gradient
        const T* r0 = padded;
        const T *r1 = r0 + l.pitch, *r2 = r1 + l.pitch;
        T s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3, s4, s5, s6, s7, s8)
        for (std::ptrdiff_t i = 0; i < l.span; ++i) {
          s0 += gr[i] * r0[i];
          s1 += gr[i] * r0[i + 1];
          s2 += gr[i] * r0[i + 2];
          s3 += gr[i] * r1[i];
          s4 += gr[i] * r1[i + 1];
          s5 += gr[i] * r1[i + 2];
          s6 += gr[i] * r2[i];
          s7 += gr[i] * r2[i + 1];
          s8 += gr[i] * r2[i + 2];
        }
        const T sums[9] = {s0, s1, s2, s3, s4, s5, s6, s7, s8};
        for (int t = 0; t < 9; ++t) taps[t] += sums[t];
        continue;
      }
      for (int ky = 0; ky < g.k; ++ky)
        for (int kx = 0; kx < g.k; ++kx) {
          const T* in = padded + std::ptrdiff_t(ky) * l.pitch + kx;
          T sum = 0;
#pragma omp simd reduction(+ : sum)
          for (std::ptrdiff_t i = 0; i < l.span; ++i) sum += gr[i] * in[i];
          taps[ky * g.k + kx] += sum;
        }
    }
  }
}

}  // namespace unetflow::direct
