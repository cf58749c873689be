#pragma once
// The CPU policy's Winograd drivers: the transforms of winograd*.hpp around one GEMM per transformed point.
#include <omp.h>

#include <algorithm>
#include <cstddef>

#include "../../../tensor.hpp"
#include "../../common.hpp"
#include "../gemm.hpp"
#include "../memory.hpp"
#include "winograd.hpp"
#include "winograd_f4x4.hpp"
#include "winograd_upsample.hpp"

namespace unetflow::cpu_impl {

template <class T>
struct WinogradConvolution {
  using Use = typename Memory<T>::Use;

  // A 3x3 'same' convolution through Scheme (F2x2 or F4x4).
  template <class Scheme>
  static void forward(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g, bool accumulate,
                      SampleEpilogue done) {
    T* u = Memory<T>::scratch(Use::transformed_weights, 0, Scheme::points * winograd::point_stride(g.co, g.ci));
    Scheme::transform_weights(w, g.co, g.ci, u);
    batched<Scheme>(x, u, y, n, g.ci, g.co, g.hi, g.wi, accumulate, done);
  }
  // The UpConv's 4x4 stride-2 transposed convolution (k 4, s 2, p 1, an h x w map to 2h x 2w) as Winograd
  // F(3x3, 2x2) over its four sub-pixel classes (winograd_upsample.hpp). In ConvGeom terms it is the data gradient
  // of the convolution 2h x 2w -> h x w, so g.co is its input's channel count and g.ci its output's.
  static void upsample(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g, bool accumulate,
                       SampleEpilogue done);
  // Per batch of samples: the input transforms, one GEMM (classes * co) x ci x (tiles * samples) per transformed
  // point, the output transforms. u holds the transformed weights [points][classes * co][ci]; h x w is the input's
  // size. Maps of fewer than small_map tiles batch samples up to batch_columns GEMM columns; larger maps go one
  // sample per batch (measured faster at 28x28). Both rules: bench_layers conv3x3_2D_7 and conv3x3_D_14 vs _28.
  static constexpr int small_map = 32, batch_columns = 64;
  template <class Scheme>
  static void batched(Strided<const T> x, const T* u, Strided<T> y, int n, int ci, int co, int h, int w,
                      bool accumulate, SampleEpilogue done);

  // Per sample: the input's and the output gradient's transforms, then one GEMM (co x tiles) by (tiles x ci) per
  // transformed point into per-thread sums of M[points][co][ci]; the sums are added in thread order (deterministic)
  // and taken back through the weight transform's adjoint.
  template <class W>
  static void weight_gradient(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g);
};

template <class T>
void WinogradConvolution<T>::upsample(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g,
                                      bool accumulate, SampleEpilogue done) {
  using W = winograd::Upsample;
  T* u = Memory<T>::scratch(Use::transformed_weights, 0, W::points * winograd::point_stride(W::classes * g.ci, g.co));
  W::transform_weights(w, g.co, g.ci, u);
  batched<W>(x, u, y, n, g.co, g.ci, g.ho, g.wo, accumulate, done);
}

template <class T>
template <class Scheme>
void WinogradConvolution<T>::batched(Strided<const T> x, const T* u, Strided<T> y, int n, int ci, int co, int h, int w,
                                     bool accumulate, SampleEpilogue done) {
  constexpr int points = Scheme::points;
  const int rows_m = Scheme::classes * co, tiles = Scheme::tiles(h, w);
  const int per_thread = (n + Memory<T>::threads() - 1) / Memory<T>::threads();
  const int wanted = (batch_columns + tiles - 1) / tiles;
  const int batch = tiles >= small_map ? 1 : std::max(1, std::min(wanted, per_thread));
  const int batches = (n + batch - 1) / batch;
  const std::ptrdiff_t ld = std::ptrdiff_t(tiles) * batch, u_stride = winograd::point_stride(rows_m, ci),
                       v_stride = winograd::point_stride(ci, ld), m_stride = winograd::point_stride(rows_m, ld);
  const std::ptrdiff_t in_rows = Scheme::input_scratch(h, w);
#pragma omp parallel
  {
    const int t = omp_get_thread_num();
    T* v = Memory<T>::scratch(Use::columns, t, points * v_stride);
    T* m = Memory<T>::scratch(Use::tile, t, points * m_stride);
    T* rows = Memory<T>::scratch(Use::rows, t, in_rows + Scheme::output_scratch(h, w));
#pragma omp for schedule(static)
    for (int b = 0; b < batches; ++b) {
      const int s0 = b * batch, count = std::min(batch, n - s0);
      for (int j = 0; j < count; ++j) Scheme::transform_input(x[s0 + j], ci, h, w, v + j * tiles, ld, rows);
      for (int xi = 0; xi < points; ++xi)
        Gemm<T>::gemm(false, false, rows_m, count * tiles, ci, T(1), u + xi * u_stride, ci, v + xi * v_stride, int(ld),
                      T(0), m + xi * m_stride, int(ld));
      for (int j = 0; j < count; ++j) {
        Scheme::transform_output(m + j * tiles, co, ld, y[s0 + j], h, w, accumulate, rows + in_rows);
        if (done) done(s0 + j);
      }
    }
  }
}

template <class T>
template <class W>
void WinogradConvolution<T>::weight_gradient(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g) {
  constexpr int points = W::points;
  const std::ptrdiff_t ld = W::tiles(g.hi, g.wi), plane = winograd::point_stride(g.co, g.ci);
  const std::ptrdiff_t v_stride = winograd::point_stride(g.ci, ld), e_stride = winograd::point_stride(g.co, ld);
  const std::ptrdiff_t rows_size = std::max(W::input_scratch(g.hi, g.wi), W::gradient_scratch(g.ho, g.wo));
  const int nt = std::min(Memory<T>::threads(), std::max(n, 1));
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    T* v = Memory<T>::scratch(Use::columns, t, points * v_stride);
    T* e = Memory<T>::scratch(Use::tile, t, points * e_stride);
    T* rows = Memory<T>::scratch(Use::rows, t, rows_size);
    T* acc = Memory<T>::scratch(Use::partial_sums, t, points * plane);
    std::fill(acc, acc + points * plane, T(0));
#pragma omp for schedule(static)
    for (int s = 0; s < n; ++s) {
      W::transform_input(x[s], g.ci, g.hi, g.wi, v, ld, rows);
      W::transform_gradient(dy[s], g.co, g.ho, g.wo, e, ld, rows);
      for (int xi = 0; xi < points; ++xi)
        Gemm<T>::gemm(false, true, g.co, g.ci, int(ld), T(1), e + xi * e_stride, int(ld), v + xi * v_stride, int(ld),
                      T(1), acc + xi * plane, g.ci);
    }
  }
  T* total =
      Memory<T>::scratch(Use::partial_sums, 0, points * plane);  // thread 0's sums, then the others added to them
  Memory<T>::add_partial_sums(1, nt, points * plane, total);
  W::transform_weight_gradient(total, g.co, g.ci, dw);
}

}  // namespace unetflow::cpu_impl
