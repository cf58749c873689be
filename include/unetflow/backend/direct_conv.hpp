#pragma once
// Direct stride-1 convolution for layers with very few output channels (the UNet's last 3x3 convolution, 64 -> 1).
// im2col would write ci * k * k values per pixel to be read by a GEMM with co rows: 1.8 MB per 28x28 sample for
// one dot product each. Here every tap is one pass of row updates over maps that stay in L1.
// Weights w[co][ci][k][k]; one sample per call (the caller runs samples in parallel).
#include <algorithm>
#include <cstddef>

#include "common.hpp"

namespace unetflow::direct {

// Columns ox in [lo, hi) read input column ox - p + kx inside [0, wi), for stride 1.
inline void valid_range(int p, int kx, int in, int out, int& lo, int& hi) {
  lo = std::max(0, p - kx);
  hi = std::max(lo, std::min(out, in + p - kx));
}

// y[co][ho][wo] (+)= w * x for one sample x[ci][hi][wi].
template <class T>
void forward(const T* x, const T* w, T* y, const ConvGeom& g, bool accumulate) {
  const std::ptrdiff_t in_plane = std::ptrdiff_t(g.hi) * g.wi, out_plane = std::ptrdiff_t(g.ho) * g.wo;
  for (int o = 0; o < g.co; ++o) {
    T* plane = y + o * out_plane;
    if (!accumulate) std::fill(plane, plane + out_plane, T(0));
    for (int c = 0; c < g.ci; ++c) {
      const T* in = x + c * in_plane;
      const T* taps = w + (std::ptrdiff_t(o) * g.ci + c) * g.k * g.k;
      for (int ky = 0; ky < g.k; ++ky) {
        int ylo, yhi;
        valid_range(g.p, ky, g.hi, g.ho, ylo, yhi);
        for (int kx = 0; kx < g.k; ++kx) {
          int lo, hi;
          valid_range(g.p, kx, g.wi, g.wo, lo, hi);
          const T a = taps[ky * g.k + kx];
          for (int oy = ylo; oy < yhi; ++oy) {
            const T* src = in + std::ptrdiff_t(oy - g.p + ky) * g.wi + (kx - g.p);
            T* dst = plane + std::ptrdiff_t(oy) * g.wo;
#pragma omp simd
            for (int ox = lo; ox < hi; ++ox) dst[ox] += a * src[ox];
          }
        }
      }
    }
  }
}

// dw[co][ci][k][k] += dy * x^T for one sample: one dot product over the output map per weight.
template <class T>
void weight_gradient(const T* x, const T* dy, T* dw, const ConvGeom& g) {
  const std::ptrdiff_t in_plane = std::ptrdiff_t(g.hi) * g.wi, out_plane = std::ptrdiff_t(g.ho) * g.wo;
  for (int o = 0; o < g.co; ++o) {
    const T* grad = dy + o * out_plane;
    for (int c = 0; c < g.ci; ++c) {
      const T* in = x + c * in_plane;
      T* taps = dw + (std::ptrdiff_t(o) * g.ci + c) * g.k * g.k;
      for (int ky = 0; ky < g.k; ++ky) {
        int ylo, yhi;
        valid_range(g.p, ky, g.hi, g.ho, ylo, yhi);
        for (int kx = 0; kx < g.k; ++kx) {
          int lo, hi;
          valid_range(g.p, kx, g.wi, g.wo, lo, hi);
          T acc = 0;
          for (int oy = ylo; oy < yhi; ++oy) {
            const T* src = in + std::ptrdiff_t(oy - g.p + ky) * g.wi + (kx - g.p);
            const T* gr = grad + std::ptrdiff_t(oy) * g.wo;
#pragma omp simd reduction(+ : acc)
            for (int ox = lo; ox < hi; ++ox) acc += gr[ox] * src[ox];
          }
          taps[ky * g.k + kx] += acc;
        }
      }
    }
  }
}

}  // namespace unetflow::direct
