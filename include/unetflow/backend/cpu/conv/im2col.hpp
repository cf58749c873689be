#pragma once
// The general convolution path of the CPU policy: im2col (col2im) and one GEMM per tile of samples.
#include <omp.h>

#include <algorithm>
#include <cstddef>

#include "../../../tensor.hpp"
#include "../../common.hpp"
#include "../gemm.hpp"
#include "../memory.hpp"
#include "winograd.hpp"

namespace unetflow::cpu_impl {

template <class T>
struct Columns {
  using Use = typename Memory<T>::Use;

  // Column matrices have col_rows() rows of `ld` floats; one sample's ho*wo columns start at `col`.
  // Columns of a tile of samples sit side by side, so one GEMM covers the whole tile.
  // The output columns ox whose input column ox*s - p + kx lies inside [0, wi).
  static void valid_columns(const ConvGeom& g, int kx, int& lo, int& hi) {
    lo = std::max(0, (g.p - kx + g.s - 1) / g.s);
    hi = std::min(g.wo, g.wi - 1 + g.p - kx < 0 ? 0 : (g.wi - 1 + g.p - kx) / g.s + 1);
    if (hi < lo) hi = lo;
  }
  static void im2col(const T* x, T* col, std::ptrdiff_t ld, const ConvGeom& g);
  // Adds the columns back onto the image they came from (x must be zeroed first unless accumulating).
  static void col2im(const T* col, std::ptrdiff_t ld, T* x, const ConvGeom& g);

  // Samples per GEMM: small maps are grouped until a GEMM has about min_cols columns (OpenBLAS is slow on narrow
  // ones; bench: downconv_D_28_to_14), bounded by a 16 MB column workspace and by whole rounds of tiles per thread.
  static int conv_tile(const ConvGeom& g, int n);
  // Copies between per-sample maps [c][hw] and a tile matrix [c][m*hw] (the GEMM's side of a tile).
  static void gather_tile(Strided<const T> y, int s0, int m, int c, std::ptrdiff_t hw, T* tile);
  static void scatter_tile(const T* tile, Strided<T> y, int s0, int m, int c, std::ptrdiff_t hw, bool accumulate);

  // y[s] (+)= w * im2col(x[s]), a tile of samples per GEMM; workspaces are per thread.
  static void forward(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g, bool accumulate,
                      SampleEpilogue done);
  // dx[s] (+)= col2im(w^T * dy[s]).
  static void backward_data(Strided<const T> dy, const T* w, Strided<T> dx, int n, const ConvGeom& g, bool accumulate,
                            SampleEpilogue done);
  // dw += sum_s dy[s] * im2col(x[s])^T; per-thread partial sums added in thread order (deterministic).
  static void backward_weight(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g);
};

template <class T>
void Columns<T>::gather_tile(Strided<const T> y, int s0, int m, int c, std::ptrdiff_t hw, T* tile) {
  for (int j = 0; j < m; ++j)
    for (int r = 0; r < c; ++r) std::copy(y[s0 + j] + r * hw, y[s0 + j] + (r + 1) * hw, tile + r * m * hw + j * hw);
}

template <class T>
void Columns<T>::im2col(const T* x, T* col, std::ptrdiff_t ld, const ConvGeom& g) {
  for (int c = 0; c < g.ci; ++c)
    for (int ky = 0; ky < g.k; ++ky)
      for (int kx = 0; kx < g.k; ++kx) {
        int lo, hi;
        valid_columns(g, kx, lo, hi);
        T* out = col + ((std::ptrdiff_t(c) * g.k + ky) * g.k + kx) * ld;
        const T* plane = x + std::ptrdiff_t(c) * g.hi * g.wi;
        for (int oy = 0; oy < g.ho; ++oy) {
          const int iy = oy * g.s - g.p + ky;
          T* row = out + oy * g.wo;
          if (iy < 0 || iy >= g.hi) {
            std::fill(row, row + g.wo, T(0));
            continue;
          }
          const T* in = plane + iy * g.wi;
          const int shift = kx - g.p;
          std::fill(row, row + lo, T(0));
          if (g.s == 1) {
            winograd::copy_row(in + lo + shift, hi - lo, row + lo);
          } else {
#pragma omp simd
            for (int ox = lo; ox < hi; ++ox) row[ox] = in[ox * g.s + shift];
          }
          std::fill(row + hi, row + g.wo, T(0));
        }
      }
}

template <class T>
void Columns<T>::col2im(const T* col, std::ptrdiff_t ld, T* x, const ConvGeom& g) {
  for (int c = 0; c < g.ci; ++c)
    for (int ky = 0; ky < g.k; ++ky)
      for (int kx = 0; kx < g.k; ++kx) {
        int lo, hi;
        valid_columns(g, kx, lo, hi);
        const T* in = col + ((std::ptrdiff_t(c) * g.k + ky) * g.k + kx) * ld;
        T* plane = x + std::ptrdiff_t(c) * g.hi * g.wi;
        for (int oy = 0; oy < g.ho; ++oy) {
          const int iy = oy * g.s - g.p + ky;
          if (iy < 0 || iy >= g.hi) continue;
          const T* row = in + oy * g.wo;
          T* out = plane + iy * g.wi;
          const int shift = kx - g.p;
          if (g.s == 1)
            for (int ox = lo; ox < hi; ++ox) out[ox + shift] += row[ox];
          else
            for (int ox = lo; ox < hi; ++ox) out[ox * g.s + shift] += row[ox];
        }
      }
}

template <class T>
int Columns<T>::conv_tile(const ConvGeom& g, int n) {
  const std::ptrdiff_t hw = g.col_cols(), min_cols = 768, max_floats = std::ptrdiff_t(1) << 22;
  const int threads = Memory<T>::threads();
  std::ptrdiff_t tile = (min_cols + hw - 1) / hw;
  tile = std::min(tile, max_floats / std::max<std::ptrdiff_t>(1, g.col_rows() * hw));
  tile = std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(tile, (n + threads - 1) / threads));
  // Whole rounds of tiles: 5 tiles on 2 threads would leave one thread idle for a third of the time.
  std::ptrdiff_t count = (n + tile - 1) / tile;
  if (count > 1 && count % threads != 0) {
    count = (count + threads - 1) / threads * threads;
    tile = (n + count - 1) / count;
  }
  return int(tile);
}

template <class T>
void Columns<T>::scatter_tile(const T* tile, Strided<T> y, int s0, int m, int c, std::ptrdiff_t hw, bool accumulate) {
  for (int j = 0; j < m; ++j)
    for (int r = 0; r < c; ++r) {
      const T* in = tile + r * m * hw + j * hw;
      T* out = y[s0 + j] + r * hw;
      if (accumulate)
        for (std::ptrdiff_t i = 0; i < hw; ++i) out[i] += in[i];
      else
        std::copy(in, in + hw, out);
    }
}

template <class T>
void Columns<T>::forward(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g, bool accumulate,
                         SampleEpilogue done) {
  const int rows = int(g.col_rows()), hw = int(g.col_cols()), tile = conv_tile(g, n);
  const int tiles = (n + tile - 1) / tile;
#pragma omp parallel
  {
    const int t = omp_get_thread_num();
    T* col = Memory<T>::scratch(Use::columns, t, g.col_rows() * hw * tile);
    T* out = tile > 1 ? Memory<T>::scratch(Use::tile, t, std::ptrdiff_t(g.co) * hw * tile) : nullptr;
#pragma omp for schedule(static)
    for (int b = 0; b < tiles; ++b) {
      const int s0 = b * tile, m = std::min(tile, n - s0), ld = m * hw;
      for (int j = 0; j < m; ++j) im2col(x[s0 + j], col + std::ptrdiff_t(j) * hw, ld, g);
      if (m == 1) {
        Gemm<T>::gemm(false, false, g.co, hw, rows, T(1), w, rows, col, hw, accumulate ? T(1) : T(0), y[s0], hw);
      } else {
        Gemm<T>::gemm(false, false, g.co, ld, rows, T(1), w, rows, col, ld, T(0), out, ld);
        scatter_tile(out, y, s0, m, g.co, hw, accumulate);
      }
      if (done)
        for (int j = 0; j < m; ++j) done(s0 + j);
    }
  }
}

template <class T>
void Columns<T>::backward_data(Strided<const T> dy, const T* w, Strided<T> dx, int n, const ConvGeom& g,
                               bool accumulate, SampleEpilogue done) {
  const int rows = int(g.col_rows()), hw = int(g.col_cols()), tile = conv_tile(g, n);
  const int tiles = (n + tile - 1) / tile;
  const std::ptrdiff_t image = std::ptrdiff_t(g.ci) * g.hi * g.wi;
#pragma omp parallel
  {
    const int t = omp_get_thread_num();
    T* col = Memory<T>::scratch(Use::columns, t, g.col_rows() * hw * tile);
    T* in = tile > 1 ? Memory<T>::scratch(Use::tile, t, std::ptrdiff_t(g.co) * hw * tile) : nullptr;
#pragma omp for schedule(static)
    for (int b = 0; b < tiles; ++b) {
      const int s0 = b * tile, m = std::min(tile, n - s0), ld = m * hw;
      const T* dyt = dy[s0];
      if (m > 1) {
        gather_tile(dy, s0, m, g.co, hw, in);
        dyt = in;
      }
      Gemm<T>::gemm(true, false, rows, ld, g.co, T(1), w, rows, dyt, ld, T(0), col, ld);
      for (int j = 0; j < m; ++j) {
        if (!accumulate) std::fill(dx[s0 + j], dx[s0 + j] + image, T(0));
        col2im(col + std::ptrdiff_t(j) * hw, ld, dx[s0 + j], g);
        if (done) done(s0 + j);
      }
    }
  }
}

template <class T>
void Columns<T>::backward_weight(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g) {
  const int rows = int(g.col_rows()), hw = int(g.col_cols()), tile = conv_tile(g, n);
  const int tiles = (n + tile - 1) / tile;
  const std::ptrdiff_t wsize = std::ptrdiff_t(g.co) * rows;
  const int nt = std::min(Memory<T>::threads(), std::max(tiles, 1));
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    T* col = Memory<T>::scratch(Use::columns, t, g.col_rows() * hw * tile);
    T* in = tile > 1 ? Memory<T>::scratch(Use::tile, t, std::ptrdiff_t(g.co) * hw * tile) : nullptr;
    T* acc = Memory<T>::scratch(Use::partial_sums, t, wsize);
    std::fill(acc, acc + wsize, T(0));
#pragma omp for schedule(static)
    for (int b = 0; b < tiles; ++b) {
      const int s0 = b * tile, m = std::min(tile, n - s0), ld = m * hw;
      for (int j = 0; j < m; ++j) im2col(x[s0 + j], col + std::ptrdiff_t(j) * hw, ld, g);
      const T* dyt = dy[s0];
      if (m > 1) {
        gather_tile(dy, s0, m, g.co, hw, in);
        dyt = in;
      }
      Gemm<T>::gemm(false, true, g.co, rows, ld, T(1), dyt, ld, col, ld, T(1), acc, rows);
    }
  }
  Memory<T>::add_partial_sums(0, nt, wsize, dw);
}

}  // namespace unetflow::cpu_impl
