#pragma once
// The CPU policy's convolution room: which path each geometry takes. The paths live beside it: im2col.hpp (the
// general one), conv_winograd.hpp, direct_conv.hpp; whole-map kernels are a single GEMM here.
// Each rule below is one line: the condition, why it pays, and the bench_layers case that measures it
// (docs/performance.md has the measurements).
#include <omp.h>

#include <algorithm>
#include <cstddef>

#include "../../../tensor.hpp"
#include "../../common.hpp"
#include "conv_winograd.hpp"
#include "direct_conv.hpp"
#include "../gemm.hpp"
#include "im2col.hpp"
#include "../memory.hpp"

namespace unetflow::cpu_impl {

template <class T>
struct Convolution {
  // conv_forward and conv_backward_data call done(s) once sample s's output is final, on the thread that wrote it
  // (while it is still in that core's cache): ConvBnAct runs evaluation-mode BatchNorm + its activation there.
  static constexpr bool conv_epilogues = true;

  // Kernel covering the whole unpadded input (Unflatten's 1x1 <-> 7x7): im2col is the identity, one GEMM over the
  // batch. Bench: unflatten_2D_1_to_7.
  static bool whole_map(const ConvGeom& g) { return g.ho == 1 && g.wo == 1 && g.p == 0 && g.k == g.hi && g.k == g.wi; }
  // Fewer than 4 output channels: im2col would write ci*k*k columns per pixel for 1-3 outputs; direct taps instead.
  // Bench: conv3x3_D_to_1_28.
  static bool direct_applies(const ConvGeom& g) { return g.co < 4 && g.s == 1; }
  // 3x3 'same' between 8+ channels: Winograd does 2.25x (F2x2) to 4x (F4x4) fewer products. Bench: conv3x3_D_28.
  static bool winograd_applies(const ConvGeom& g) {
    return g.k == 3 && g.s == 1 && g.p == 1 && g.ho == g.hi && g.wo == g.wi && g.ci >= 8 && g.co >= 8;
  }
  // F(4x4) from 12x12 maps up; at 7x7 its 4x4 tiles pad the map by 30% and F(2x2) wins. Bench: conv3x3_D_14, _2D_7.
  static bool winograd_f4x4_pays(const ConvGeom& g) { return g.hi >= 12 && g.wi >= 12; }
  // F(4x4) weight gradient on 24x24+ maps up to 8192 channel pairs; beyond, its 36 per-thread sums leave the L2
  // cache. Bench: conv3x3_64_28 (F4x4) and conv3x3_D_28 (F2x2) backward.
  static bool winograd_f4x4_weight_pays(const ConvGeom& g) {
    return g.hi >= 24 && g.wi >= 24 && std::ptrdiff_t(g.co) * g.ci <= 8192;
  }
  // UpConv (4x4, stride 2) from 12x12 inputs: one input transform serves all four sub-pixel classes; from 7x7 (9
  // tiles per GEMM) GEMM + col2im measured faster. Bench: upconv_2D_to_D_14_to_28, upconv_4D_to_D_7_to_14.
  static bool winograd_upsample_applies(const ConvGeom& g) {
    return g.k == 4 && g.s == 2 && g.p == 1 && g.hi == 2 * g.ho && g.wi == 2 * g.wo && g.ci >= 8 && g.co >= 8 &&
           g.ho >= 12 && g.wo >= 12;
  }
  // 3x3 'valid' (no padding) between 8+ channels: the centre of the 'same' convolution, so Winograd serves it too.
  // Its 1-pixel frame is 17 % more outputs at 26x26 -> 24x24, against 2.25-4x fewer products. Bench: mnist_conv2.
  static bool valid_as_same(const ConvGeom& g) {
    return g.k == 3 && g.s == 1 && g.p == 0 && g.ho == g.hi - 2 && g.wo == g.wi - 2 && g.ho >= 1 && g.wo >= 1 &&
           g.ci >= 8 && g.co >= 8;
  }
  static ConvGeom same_of(const ConvGeom& g) { return {g.ci, g.hi, g.wi, g.co, g.hi, g.wi, 3, 1, 1}; }
  // A 'same' convolution's data gradient is a 'same' convolution of dy by the transposed, flipped weights: the
  // forward paths instead of col2im's scattered adds. Bench: conv3x3_D_28 backward.
  static bool same_padding(const ConvGeom& g) { return g.s == 1 && g.ho == g.hi && g.wo == g.wi && 2 * g.p == g.k - 1; }

  // y[s] (+)= w * x[s].
  static void conv_forward(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g, bool accumulate,
                           SampleEpilogue done = {});

  // dx[s] (+)= w^T * dy[s]: the data gradient of a convolution, and the forward of a transposed one.
  static void conv_backward_data(Strided<const T> dy, const T* w, Strided<T> dx, int n, const ConvGeom& g,
                                 bool accumulate, SampleEpilogue done = {});

  // dw += sum_s dy[s] * x[s]^T, deterministic: per-thread partial sums are added in thread order.
  static void conv_backward_weight(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g);

 private:
  using Use = typename Memory<T>::Use;

  // valid_as_same's maps: y[s] (+)= the centre of framed[s] (co x hi x wi), and framed[s] = dy[s] in a zero frame.
  static void crop_centre(const T* framed, Strided<T> y, int n, const ConvGeom& g, bool accumulate,
                          SampleEpilogue done);
  static T* framed(Strided<const T> dy, int n, const ConvGeom& g);
  // done(s) for every sample, for the paths that finish all samples at once.
  static void each_sample(int n, SampleEpilogue done);
  static void direct_forward(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g, bool accumulate,
                             SampleEpilogue done);
  static void direct_weight_gradient(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g);
};

template <class T>
void Convolution<T>::each_sample(int n, SampleEpilogue done) {
  if (!done) return;
#pragma omp parallel for schedule(static)
  for (int s = 0; s < n; ++s) done(s);
}

template <class T>
void Convolution<T>::conv_forward(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g,
                                  bool accumulate, SampleEpilogue done) {
  if (whole_map(g)) {  // y = x w^T
    Gemm<T>::gemm(false, true, n, g.co, int(g.col_rows()), T(1), x.data, int(x.stride), w, int(g.col_rows()),
                  accumulate ? T(1) : T(0), y.data, int(y.stride));
    each_sample(n, done);
  } else if (direct_applies(g)) {
    direct_forward(x, w, y, n, g, accumulate, done);
  } else if (valid_as_same(g)) {
    const ConvGeom same = same_of(g);
    T* full = Memory<T>::scratch(Use::framed, 0, std::ptrdiff_t(n) * same.co * same.ho * same.wo);
    conv_forward(x, w, {full, std::ptrdiff_t(same.co) * same.ho * same.wo}, n, same, false);
    crop_centre(full, y, n, g, accumulate, done);
  } else if (winograd_applies(g)) {
    if (winograd_f4x4_pays(g))
      WinogradConvolution<T>::template forward<winograd::F4x4>(x, w, y, n, g, accumulate, done);
    else
      WinogradConvolution<T>::template forward<winograd::F2x2>(x, w, y, n, g, accumulate, done);
  } else {
    Columns<T>::forward(x, w, y, n, g, accumulate, done);
  }
}

template <class T>
void Convolution<T>::conv_backward_data(Strided<const T> dy, const T* w, Strided<T> dx, int n, const ConvGeom& g,
                                        bool accumulate, SampleEpilogue done) {
  if (winograd_upsample_applies(g)) {
    WinogradConvolution<T>::upsample(dy, w, dx, n, g, accumulate, done);
  } else if (whole_map(g)) {  // dx = dy w
    Gemm<T>::gemm(false, false, n, int(g.col_rows()), g.co, T(1), dy.data, int(dy.stride), w, int(g.col_rows()),
                  accumulate ? T(1) : T(0), dx.data, int(dx.stride));
    each_sample(n, done);
  } else if (valid_as_same(g)) {
    const ConvGeom same = same_of(g);
    conv_backward_data({framed(dy, n, g), std::ptrdiff_t(same.co) * same.ho * same.wo}, w, dx, n, same, accumulate,
                       done);
  } else if (same_padding(g)) {
    const int kk = g.k * g.k;
    T* flipped = Memory<T>::scratch(Memory<T>::Use::weights, 0, std::ptrdiff_t(g.co) * g.ci * kk);
    for (int o = 0; o < g.co; ++o)
      for (int i = 0; i < g.ci; ++i)
        for (int j = 0; j < kk; ++j)
          flipped[(std::ptrdiff_t(i) * g.co + o) * kk + (kk - 1 - j)] = w[(std::ptrdiff_t(o) * g.ci + i) * kk + j];
    conv_forward(dy, flipped, dx, n, ConvGeom{g.co, g.ho, g.wo, g.ci, g.hi, g.wi, g.k, 1, g.k - 1 - g.p}, accumulate,
                 done);
  } else {
    Columns<T>::backward_data(dy, w, dx, n, g, accumulate, done);
  }
}

template <class T>
void Convolution<T>::conv_backward_weight(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g) {
  if (whole_map(g)) {  // dw += dy^T x
    Gemm<T>::gemm(true, false, g.co, int(g.col_rows()), n, T(1), dy.data, int(dy.stride), x.data, int(x.stride), T(1),
                  dw, int(g.col_rows()));
  } else if (valid_as_same(g)) {
    const ConvGeom same = same_of(g);
    conv_backward_weight(x, {framed(dy, n, g), std::ptrdiff_t(same.co) * same.ho * same.wo}, dw, n, same);
  } else if (winograd_applies(g)) {
    if (winograd_f4x4_weight_pays(g))
      WinogradConvolution<T>::template weight_gradient<winograd::F4x4>(x, dy, dw, n, g);
    else
      WinogradConvolution<T>::template weight_gradient<winograd::F2x2>(x, dy, dw, n, g);
  } else if (direct_applies(g)) {
    direct_weight_gradient(x, dy, dw, n, g);
  } else {
    Columns<T>::backward_weight(x, dy, dw, n, g);
  }
}

template <class T>
void Convolution<T>::crop_centre(const T* framed, Strided<T> y, int n, const ConvGeom& g, bool accumulate,
                                 SampleEpilogue done) {
  const std::ptrdiff_t plane = std::ptrdiff_t(g.hi) * g.wi;
#pragma omp parallel for schedule(static)
  for (int s = 0; s < n; ++s) {
    for (int c = 0; c < g.co; ++c)
      for (int oy = 0; oy < g.ho; ++oy) {
        const T* from = framed + (std::ptrdiff_t(s) * g.co + c) * plane + (oy + 1) * g.wi + 1;
        T* to = y[s] + (std::ptrdiff_t(c) * g.ho + oy) * g.wo;
        if (accumulate)
          for (int ox = 0; ox < g.wo; ++ox) to[ox] += from[ox];
        else
          std::copy(from, from + g.wo, to);
      }
    if (done) done(s);
  }
}

template <class T>
T* Convolution<T>::framed(Strided<const T> dy, int n, const ConvGeom& g) {
  const std::ptrdiff_t plane = std::ptrdiff_t(g.hi) * g.wi;
  T* out = Memory<T>::scratch(Use::framed, 0, std::ptrdiff_t(n) * g.co * plane);
#pragma omp parallel for schedule(static)
  for (int s = 0; s < n; ++s)
    for (int c = 0; c < g.co; ++c) {
      T* to = out + (std::ptrdiff_t(s) * g.co + c) * plane;
      std::fill(to, to + g.wi, T(0));
      for (int oy = 0; oy < g.ho; ++oy) {
        T* row = to + (oy + 1) * g.wi;
        const T* from = dy[s] + (std::ptrdiff_t(c) * g.ho + oy) * g.wo;
        row[0] = row[g.wi - 1] = T(0);
        std::copy(from, from + g.wo, row + 1);
      }
      std::fill(to + (g.hi - 1) * g.wi, to + plane, T(0));
    }
  return out;
}

template <class T>
void Convolution<T>::direct_forward(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g,
                                    bool accumulate, SampleEpilogue done) {
#pragma omp parallel
  {
    T* planes = Memory<T>::scratch(Use::rows, omp_get_thread_num(), direct::scratch_size(g));
#pragma omp for schedule(static)
    for (int s = 0; s < n; ++s) {
      direct::forward(x[s], w, y[s], g, accumulate, planes);
      if (done) done(s);
    }
  }
}

template <class T>
void Convolution<T>::direct_weight_gradient(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g) {
  const std::ptrdiff_t wsize = std::ptrdiff_t(g.co) * g.col_rows();
  const int nt = std::min(Memory<T>::threads(), std::max(n, 1));
#pragma omp parallel num_threads(nt)
  {
    T* acc = Memory<T>::scratch(Use::partial_sums, omp_get_thread_num(), wsize);
    T* planes = Memory<T>::scratch(Use::rows, omp_get_thread_num(), direct::scratch_size(g));
    std::fill(acc, acc + wsize, T(0));
#pragma omp for schedule(static)
    for (int s = 0; s < n; ++s) direct::weight_gradient(x[s], dy[s], acc, g, planes);
  }
  Memory<T>::add_partial_sums(0, nt, wsize, dw);
}

}  // namespace unetflow::cpu_impl
