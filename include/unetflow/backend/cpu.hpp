#pragma once
// The CPU policy: OpenMP over samples (or channels), Eigen's GEMM inside, over our own aligned buffers.
// A backend policy is a type with static member functions; layers are written once against it.
// basic_cpu<double> exists for finite-difference gradient checks.
#include <omp.h>

#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "../tensor.hpp"
#include "common.hpp"
#include "direct_conv.hpp"
#include "winograd.hpp"
#include "winograd_f4x4.hpp"
#include "winograd_upsample.hpp"

#if defined(UNETFLOW_CBLAS)
#include <cblas.h>
#endif

namespace unetflow {

template <class T_>
struct basic_cpu {
  using scalar = T_;
  using T = T_;
  static constexpr const char* name = "cpu";
  static constexpr bool host_accessible = true;  // its memory is the host's: no transfers needed
  using Activation = unetflow::Activation;

  // ---- memory -------------------------------------------------------------------------------------------
  template <class U>
  static U* allocate(std::ptrdiff_t n) {
    std::size_t bytes = (std::size_t(n) * sizeof(U) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes ? bytes : 64);
    if (!p) throw std::bad_alloc();
    return static_cast<U*>(p);
  }
  template <class U>
  static void deallocate(U* p) { std::free(p); }
  static void fill(T* p, std::ptrdiff_t n, T v) { std::fill(p, p + n, v); }
  static void copy(const T* src, T* dst, std::ptrdiff_t n) { std::copy(src, src + n, dst); }
  static void to_host(const T* src, T* dst, std::ptrdiff_t n) { copy(src, dst, n); }
  static void from_host(const T* src, T* dst, std::ptrdiff_t n) { copy(src, dst, n); }
  static double read(const double* p) { return *p; }
  static void synchronize() {}

  // A step the caller runs many times with the same shapes; a device backend records and replays it, here it
  // simply runs. run() returns whether f's host code ran (false when a recording was replayed instead).
  struct Graph {
    template <class F>
    bool run(StepKey, F&& f) {
      f();
      return true;
    }
  };

  // Scratch shared by all layers, one buffer per (use, thread); each grows to its largest request and is reused,
  // so a steady-state training step allocates nothing. The table of buffers never resizes, so threads may ask
  // for their own buffer inside a parallel region.
  enum class Use { columns, partial_sums, tile, weights, transformed_weights, rows, activations, count_ };
  static constexpr int max_threads = 1024;
  static T* scratch(Use use, int thread, std::ptrdiff_t n) {
    static std::vector<std::unique_ptr<Storage<basic_cpu>>> slots(std::size_t(Use::count_) * max_threads);
    if (thread >= max_threads) throw std::runtime_error("unetflow: more than 1024 OpenMP threads are not supported");
    auto& slot = slots[std::size_t(use) * max_threads + std::size_t(thread)];
    if (!slot) slot = std::make_unique<Storage<basic_cpu>>();
    slot->reserve(n);
    return slot->data();
  }
  // Block outputs that backward recomputes instead of keeping: one buffer per chain depth (see blocks/chain.hpp).
  static T* activation_scratch(int depth, std::ptrdiff_t n) { return scratch(Use::activations, depth, n); }
  static int threads() { return omp_get_max_threads(); }

  // ---- GEMM: C = alpha * op(A) * op(B) + beta * C, row-major --------------------------------------------
  using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using MapC = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
  using Map = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;

  static void gemm(bool ta, bool tb, int M, int N, int K, T alpha, const T* A, int lda, const T* B, int ldb,
                   T beta, T* C, int ldc) {
#if defined(UNETFLOW_CBLAS)
    // OpenBLAS (OpenMP build): multi-threaded on its own, single-threaded inside our parallel regions.
    if constexpr (std::is_same_v<T, float>) {
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A,
                  lda, B, ldb, beta, C, ldc);
      return;
    }
#endif
    Map c(C, M, N, Eigen::OuterStride<>(ldc));
    MapC a(A, ta ? K : M, ta ? M : K, Eigen::OuterStride<>(lda));
    MapC b(B, tb ? N : K, tb ? K : N, Eigen::OuterStride<>(ldb));
    if (beta == T(0)) c.setZero();
    else if (beta != T(1)) c *= beta;
    if (!ta && !tb) c.noalias() += alpha * a * b;
    else if (ta && !tb) c.noalias() += alpha * a.transpose() * b;
    else if (!ta && tb) c.noalias() += alpha * a * b.transpose();
    else c.noalias() += alpha * a.transpose() * b.transpose();
  }

  // ---- convolution primitives (weights w[co][ci][k][k], PyTorch's Conv2d layout) ------------------------
  // conv_forward and conv_backward_data call done(s) once sample s's output is final, on the thread that wrote it
  // (while it is still in that core's cache): ConvBnGelu runs evaluation-mode BatchNorm + GELU there.
  struct NoEpilogue {
    void operator()(int) const {}
  };
  static constexpr bool conv_epilogues = true;
  template <class Done>
  static void each_sample(int n, Done& done) {  // for the paths that finish all samples at once
    if constexpr (!std::is_same_v<Done, NoEpilogue>) {
#pragma omp parallel for schedule(static)
      for (int s = 0; s < n; ++s) done(s);
    }
  }
  // Column matrices have col_rows() rows of `ld` floats; one sample's ho*wo columns start at `col`.
  // Columns of a tile of samples sit side by side, so one GEMM covers the whole tile.
  // The output columns ox whose input column ox*s - p + kx lies inside [0, wi).
  static void valid_columns(const ConvGeom& g, int kx, int& lo, int& hi) {
    lo = std::max(0, (g.p - kx + g.s - 1) / g.s);
    hi = std::min(g.wo, g.wi - 1 + g.p - kx < 0 ? 0 : (g.wi - 1 + g.p - kx) / g.s + 1);
    if (hi < lo) hi = lo;
  }
  static void im2col(const T* x, T* col, std::ptrdiff_t ld, const ConvGeom& g) {
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
  // Adds the columns back onto the image they came from (x must be zeroed first unless accumulating).
  static void col2im(const T* col, std::ptrdiff_t ld, T* x, const ConvGeom& g) {
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

  // Samples per GEMM: small maps (14x14, 7x7, 1x1) are grouped until a GEMM has about 768 columns, bounded by
  // the column workspace and by keeping every thread busy for the same number of tiles.
  static int conv_tile(const ConvGeom& g, int n) {
    const std::ptrdiff_t hw = g.col_cols(), min_cols = 768, max_floats = std::ptrdiff_t(1) << 22;
    std::ptrdiff_t tile = (min_cols + hw - 1) / hw;
    tile = std::min(tile, max_floats / std::max<std::ptrdiff_t>(1, g.col_rows() * hw));
    tile = std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(tile, (n + threads() - 1) / threads()));
    // Whole rounds of tiles: 5 tiles on 2 threads would leave one thread idle for a third of the time.
    std::ptrdiff_t count = (n + tile - 1) / tile;
    if (count > 1 && count % threads() != 0) {
      count = (count + threads() - 1) / threads() * threads();
      tile = (n + count - 1) / count;
    }
    return int(tile);
  }
  // Copies between per-sample maps [c][hw] and a tile matrix [c][m*hw] (the GEMM's side of a tile).
  static void gather_tile(Strided<const T> y, int s0, int m, int c, std::ptrdiff_t hw, T* tile) {
    for (int j = 0; j < m; ++j)
      for (int r = 0; r < c; ++r) std::copy(y[s0 + j] + r * hw, y[s0 + j] + (r + 1) * hw, tile + r * m * hw + j * hw);
  }
  static void scatter_tile(const T* tile, Strided<T> y, int s0, int m, int c, std::ptrdiff_t hw, bool accumulate) {
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

  // y[s] (+)= w * im2col(x[s]) for every sample, a tile of samples per GEMM; workspaces are per thread.
  // 3x3 'same' convolutions between at least 8 channels take a Winograd path instead.
  template <class Done = NoEpilogue>
  static void conv_forward(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g, bool accumulate,
                           Done done = {}) {
    if (whole_map(g)) {  // y = x w^T over all samples at once
      gemm(false, true, n, g.co, int(g.col_rows()), T(1), x.data, int(x.stride), w, int(g.col_rows()),
           accumulate ? T(1) : T(0), y.data, int(y.stride));
      each_sample(n, done);
      return;
    }
    if (direct_applies(g)) {
#pragma omp parallel
      {
        T* planes = scratch(Use::rows, omp_get_thread_num(), direct::scratch_size(g));
#pragma omp for schedule(static)
        for (int s = 0; s < n; ++s) {
          direct::forward(x[s], w, y[s], g, accumulate, planes);
          done(s);
        }
      }
      return;
    }
    if (winograd_applies(g)) {
      if (winograd_f4x4_pays(g)) conv_forward_winograd<winograd::F4x4>(x, w, y, n, g, accumulate, done);
      else conv_forward_winograd<winograd::F2x2>(x, w, y, n, g, accumulate, done);
      return;
    }
    const int rows = int(g.col_rows()), hw = int(g.col_cols()), tile = conv_tile(g, n);
    const int tiles = (n + tile - 1) / tile;
#pragma omp parallel
    {
      const int t = omp_get_thread_num();
      T* col = scratch(Use::columns, t, g.col_rows() * hw * tile);
      T* out = tile > 1 ? scratch(Use::tile, t, std::ptrdiff_t(g.co) * hw * tile) : nullptr;
#pragma omp for schedule(static)
      for (int b = 0; b < tiles; ++b) {
        const int s0 = b * tile, m = std::min(tile, n - s0), ld = m * hw;
        for (int j = 0; j < m; ++j) im2col(x[s0 + j], col + std::ptrdiff_t(j) * hw, ld, g);
        if (m == 1) {
          gemm(false, false, g.co, hw, rows, T(1), w, rows, col, hw, accumulate ? T(1) : T(0), y[s0], hw);
        } else {
          gemm(false, false, g.co, ld, rows, T(1), w, rows, col, ld, T(0), out, ld);
          scatter_tile(out, y, s0, m, g.co, hw, accumulate);
        }
        for (int j = 0; j < m; ++j) done(s0 + j);
      }
    }
  }
  // A kernel that covers the whole input without padding (Unflatten's 7x7 transposed convolution, 1x1 -> 7x7, is
  // the data gradient of one): im2col and col2im are the identity, and each primitive is one GEMM over all samples
  // (the Unflatten forward took 6-7 ms of a sampling forward as per-tile GEMMs and col2im).
  static bool whole_map(const ConvGeom& g) { return g.ho == 1 && g.wo == 1 && g.p == 0 && g.k == g.hi && g.k == g.wi; }
  // Stride-1 convolutions to fewer than 4 channels run direct (direct_conv.hpp): the UNet's 64 -> 1 output layer
  // took 21 ms of a 430 ms sampling forward through im2col (batch 80), which wrote 1.8 MB of columns per sample.
  static bool direct_applies(const ConvGeom& g) { return g.co < 4 && g.s == 1; }
  // Winograd (winograd.hpp, winograd_f4x4.hpp): per sample (per few samples on small maps), the input transform,
  // one GEMM co x ci x tiles per transformed point, the output transform. F(2x2, 3x3) does 2.25x fewer
  // multiplications than im2col + GEMM, F(4x4, 3x3) 4x fewer.
  static bool winograd_applies(const ConvGeom& g) {
    return g.k == 3 && g.s == 1 && g.p == 1 && g.ho == g.hi && g.wo == g.wi && g.ci >= 8 && g.co >= 8;
  }
  // F(4x4) measured faster from 14x14 maps up (forward, batch 80: 64 and 128 channels 28x28 25 vs 34 ms; 64 channels
  // 14x14 8.3-11.6 vs 11.1-11.7 ms once its output transform was vectorised); at 7x7 its 4x4 tiles pad the map by
  // 30% (128 channels: 19.3 vs 13.7 ms) and F(2x2) wins.
  static bool winograd_f4x4_pays(const ConvGeom& g) { return g.hi >= 12 && g.wi >= 12; }
  // The weight gradient through F(4x4) on 24x24+ maps between up to 8192 channel pairs: 36 GEMMs over 49 tiles per
  // 28x28 sample instead of 16 over 196, and 2.25 transformed values per pixel instead of 4. Batch 64, 2 threads:
  // 64 -> 64 channels 29-32 -> 17-19 ms, 128 -> 64 48-52 -> 31-33 ms; 128 -> 128 and 256 -> 128 measured no
  // faster (their 36 per-thread sums of co x ci no longer fit the L2 cache), and 14x14 maps the same either way.
  static bool winograd_f4x4_weight_pays(const ConvGeom& g) {
    return g.hi >= 24 && g.wi >= 24 && std::ptrdiff_t(g.co) * g.ci <= 8192;
  }
  template <class Scheme, class Done>
  static void conv_forward_winograd(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g,
                                    bool accumulate, Done& done) {
    T* u = scratch(Use::transformed_weights, 0, Scheme::points * winograd::point_stride(g.co, g.ci));
    Scheme::transform_weights(w, g.co, g.ci, u);
    winograd_forward<Scheme>(x, u, y, n, g.ci, g.co, g.hi, g.wi, accumulate, done);
  }
  // The UpConv's 4x4 stride-2 transposed convolution (k 4, s 2, p 1, an h x w map to 2h x 2w) as Winograd
  // F(3x3, 2x2) over its four sub-pixel classes (winograd_upsample.hpp). In ConvGeom terms it is the data gradient
  // of the convolution 2h x 2w -> h x w, so g.co is its input's channel count and g.ci its output's.
  // Used on inputs from 12x12 up: 128 -> 64 channels 14x14 -> 28x28, batch 80, took 33-37 ms against 57 ms
  // through GEMM + col2im; 256 -> 64 from 7x7 took 24.5 against 21 ms (9 tiles per GEMM; 1.36x fewer products).
  static bool winograd_upsample_applies(const ConvGeom& g) {
    return g.k == 4 && g.s == 2 && g.p == 1 && g.hi == 2 * g.ho && g.wi == 2 * g.wo && g.ci >= 8 && g.co >= 8 &&
           g.ho >= 12 && g.wo >= 12;
  }
  template <class Done>
  static void conv_transpose_winograd(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g,
                                      bool accumulate, Done& done) {
    using W = winograd::Upsample;
    T* u = scratch(Use::transformed_weights, 0, W::points * winograd::point_stride(W::classes * g.ci, g.co));
    W::transform_weights(w, g.co, g.ci, u);
    winograd_forward<W>(x, u, y, n, g.co, g.ci, g.ho, g.wo, accumulate, done);
  }
  // Per batch of samples: the input transforms, one GEMM (classes * co) x ci x (tiles * samples) per transformed
  // point, the output transforms. u holds the transformed weights [points][classes * co][ci]; h x w is the input's
  // size. Maps of fewer than 32 tiles (7x7 with F(2x2), 14x14 with F(4x4): 16) batch samples up to 64 GEMM columns:
  // 128 channels 7x7 13.2 -> 10.8 ms, 64 channels 14x14 9.6 -> 8.0 ms (batch 80, 2 threads); one sample per batch
  // stays best on 28x28 maps (49 tiles per GEMM with F(4x4); batches of 2-16 samples measured equal or slower).
  static constexpr int winograd_small_map = 32, winograd_batch_columns = 64;
  template <class Scheme, class Done>
  static void winograd_forward(Strided<const T> x, const T* u, Strided<T> y, int n, int ci, int co, int h, int w,
                               bool accumulate, Done& done) {
    constexpr int points = Scheme::points;
    const int rows_m = Scheme::classes * co, tiles = Scheme::tiles(h, w);
    const int per_thread = (n + threads() - 1) / threads();
    const int wanted = (winograd_batch_columns + tiles - 1) / tiles;
    const int batch = tiles >= winograd_small_map ? 1 : std::max(1, std::min(wanted, per_thread));
    const int batches = (n + batch - 1) / batch;
    const std::ptrdiff_t ld = std::ptrdiff_t(tiles) * batch, u_stride = winograd::point_stride(rows_m, ci),
                         v_stride = winograd::point_stride(ci, ld), m_stride = winograd::point_stride(rows_m, ld);
    const std::ptrdiff_t in_rows = Scheme::input_scratch(h, w);
#pragma omp parallel
    {
      const int t = omp_get_thread_num();
      T* v = scratch(Use::columns, t, points * v_stride);
      T* m = scratch(Use::tile, t, points * m_stride);
      T* rows = scratch(Use::rows, t, in_rows + Scheme::output_scratch(h, w));
#pragma omp for schedule(static)
      for (int b = 0; b < batches; ++b) {
        const int s0 = b * batch, count = std::min(batch, n - s0);
        for (int j = 0; j < count; ++j) Scheme::transform_input(x[s0 + j], ci, h, w, v + j * tiles, ld, rows);
        for (int xi = 0; xi < points; ++xi)
          gemm(false, false, rows_m, count * tiles, ci, T(1), u + xi * u_stride, ci, v + xi * v_stride, int(ld), T(0),
               m + xi * m_stride, int(ld));
        for (int j = 0; j < count; ++j) {
          Scheme::transform_output(m + j * tiles, co, ld, y[s0 + j], h, w, accumulate, rows + in_rows);
          done(s0 + j);
        }
      }
    }
  }

  // dx[s] (+)= col2im(w^T * dy[s]): the data gradient of a convolution, and the forward of a transposed one.
  template <class Done = NoEpilogue>
  static void conv_backward_data(Strided<const T> dy, const T* w, Strided<T> dx, int n, const ConvGeom& g,
                                 bool accumulate, Done done = {}) {
    if (winograd_upsample_applies(g)) {
      conv_transpose_winograd(dy, w, dx, n, g, accumulate, done);
      return;
    }
    if (whole_map(g)) {  // dx = dy w
      gemm(false, false, n, int(g.col_rows()), g.co, T(1), dy.data, int(dy.stride), w, int(g.col_rows()),
           accumulate ? T(1) : T(0), dx.data, int(dx.stride));
      each_sample(n, done);
      return;
    }
    if (g.s == 1 && g.ho == g.hi && g.wo == g.wi && 2 * g.p == g.k - 1) {
      // A 'same' convolution's data gradient is a 'same' convolution of dy with the weights transposed
      // (ci <-> co) and flipped: the forward path (im2col + GEMM) instead of GEMM + col2im's scattered adds.
      const int kk = g.k * g.k;
      T* flipped = scratch(Use::weights, 0, std::ptrdiff_t(g.co) * g.ci * kk);
      for (int o = 0; o < g.co; ++o)
        for (int i = 0; i < g.ci; ++i)
          for (int j = 0; j < kk; ++j)
            flipped[(std::ptrdiff_t(i) * g.co + o) * kk + (kk - 1 - j)] = w[(std::ptrdiff_t(o) * g.ci + i) * kk + j];
      conv_forward(dy, flipped, dx, n, ConvGeom{g.co, g.ho, g.wo, g.ci, g.hi, g.wi, g.k, 1, g.k - 1 - g.p}, accumulate,
                   done);
      return;
    }
    const int rows = int(g.col_rows()), hw = int(g.col_cols()), tile = conv_tile(g, n);
    const int tiles = (n + tile - 1) / tile;
    const std::ptrdiff_t image = std::ptrdiff_t(g.ci) * g.hi * g.wi;
#pragma omp parallel
    {
      const int t = omp_get_thread_num();
      T* col = scratch(Use::columns, t, g.col_rows() * hw * tile);
      T* in = tile > 1 ? scratch(Use::tile, t, std::ptrdiff_t(g.co) * hw * tile) : nullptr;
#pragma omp for schedule(static)
      for (int b = 0; b < tiles; ++b) {
        const int s0 = b * tile, m = std::min(tile, n - s0), ld = m * hw;
        const T* dyt = dy[s0];
        if (m > 1) {
          gather_tile(dy, s0, m, g.co, hw, in);
          dyt = in;
        }
        gemm(true, false, rows, ld, g.co, T(1), w, rows, dyt, ld, T(0), col, ld);
        for (int j = 0; j < m; ++j) {
          if (!accumulate) std::fill(dx[s0 + j], dx[s0 + j] + image, T(0));
          col2im(col + std::ptrdiff_t(j) * hw, ld, dx[s0 + j], g);
          done(s0 + j);
        }
      }
    }
  }
  // dw += sum_s dy[s] * im2col(x[s])^T. Per-thread partial sums are added in thread order: deterministic.
  // Winograd shapes take Winograd's adjoint instead (conv_backward_weight_winograd).
  static void conv_backward_weight(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g) {
    if (whole_map(g)) {  // dw += dy^T x
      gemm(true, false, g.co, int(g.col_rows()), n, T(1), dy.data, int(dy.stride), x.data, int(x.stride), T(1), dw,
           int(g.col_rows()));
      return;
    }
    if (winograd_applies(g)) {
      if (winograd_f4x4_weight_pays(g)) conv_backward_weight_winograd<winograd::F4x4>(x, dy, dw, n, g);
      else conv_backward_weight_winograd<winograd::F2x2>(x, dy, dw, n, g);
      return;
    }
    const int rows = int(g.col_rows()), hw = int(g.col_cols()), tile = conv_tile(g, n);
    const int tiles = (n + tile - 1) / tile;
    const std::ptrdiff_t wsize = std::ptrdiff_t(g.co) * rows;
    if (direct_applies(g)) {
      const int nt = std::min(threads(), std::max(n, 1));
#pragma omp parallel num_threads(nt)
      {
        T* acc = scratch(Use::partial_sums, omp_get_thread_num(), wsize);
        T* planes = scratch(Use::rows, omp_get_thread_num(), direct::scratch_size(g));
        std::fill(acc, acc + wsize, T(0));
#pragma omp for schedule(static)
        for (int s = 0; s < n; ++s) direct::weight_gradient(x[s], dy[s], acc, g, planes);
      }
      add_partial_sums(0, nt, wsize, dw);
      return;
    }
    const int nt = std::min(threads(), std::max(tiles, 1));
#pragma omp parallel num_threads(nt)
    {
      const int t = omp_get_thread_num();
      T* col = scratch(Use::columns, t, g.col_rows() * hw * tile);
      T* in = tile > 1 ? scratch(Use::tile, t, std::ptrdiff_t(g.co) * hw * tile) : nullptr;
      T* acc = scratch(Use::partial_sums, t, wsize);
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
        gemm(false, true, g.co, rows, ld, T(1), dyt, ld, col, ld, T(1), acc, rows);
      }
    }
    add_partial_sums(0, nt, wsize, dw);
  }
  // out += the per-thread partial sums (Use::partial_sums, `size` values) of threads [first, nt), in thread order.
  static void add_partial_sums(int first, int nt, std::ptrdiff_t size, T* out) {
    for (int t = first; t < nt; ++t) {
      const T* acc = scratch(Use::partial_sums, t, size);
      for (std::ptrdiff_t i = 0; i < size; ++i) out[i] += acc[i];
    }
  }

  // Per sample: the input's and the output gradient's transforms, then one GEMM (co x tiles) by (tiles x ci) per
  // transformed point into per-thread sums of M[points][co][ci]; the sums are added in thread order (deterministic)
  // and taken back through the weight transform's adjoint.
  template <class W>
  static void conv_backward_weight_winograd(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g) {
    constexpr int points = W::points;
    const std::ptrdiff_t ld = W::tiles(g.hi, g.wi), plane = winograd::point_stride(g.co, g.ci);
    const std::ptrdiff_t v_stride = winograd::point_stride(g.ci, ld), e_stride = winograd::point_stride(g.co, ld);
    const std::ptrdiff_t rows_size = std::max(W::input_scratch(g.hi, g.wi), W::gradient_scratch(g.ho, g.wo));
    const int nt = std::min(threads(), std::max(n, 1));
#pragma omp parallel num_threads(nt)
    {
      const int t = omp_get_thread_num();
      T* v = scratch(Use::columns, t, points * v_stride);
      T* e = scratch(Use::tile, t, points * e_stride);
      T* rows = scratch(Use::rows, t, rows_size);
      T* acc = scratch(Use::partial_sums, t, points * plane);
      std::fill(acc, acc + points * plane, T(0));
#pragma omp for schedule(static)
      for (int s = 0; s < n; ++s) {
        W::transform_input(x[s], g.ci, g.hi, g.wi, v, ld, rows);
        W::transform_gradient(dy[s], g.co, g.ho, g.wo, e, ld, rows);
        for (int xi = 0; xi < points; ++xi)
          gemm(false, true, g.co, g.ci, int(ld), T(1), e + xi * e_stride, int(ld), v + xi * v_stride, int(ld), T(1),
               acc + xi * plane, g.ci);
      }
    }
    T* total = scratch(Use::partial_sums, 0, points * plane);  // thread 0's sums, then the others added to them
    add_partial_sums(1, nt, points * plane, total);
    W::transform_weight_gradient(total, g.co, g.ci, dw);
  }

  // ---- per-channel bias ---------------------------------------------------------------------------------
  static void add_channel_bias(Strided<T> y, int n, int C, int plane, const T* b) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int s = 0; s < n; ++s)
      for (int c = 0; c < C; ++c) {
        T* p = y[s] + std::ptrdiff_t(c) * plane;
        for (int i = 0; i < plane; ++i) p[i] += b[c];
      }
  }
  static void channel_sums(Strided<const T> y, int n, int C, int plane, T* out_accumulate) {
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; ++c) {
      // double throughout: a bias before training-mode BatchNorm has a gradient that is zero in exact arithmetic,
      // and float partial sums of a plane left 2e-5 of noise there (a quarter of the parity tolerance)
      double acc = 0;
      for (int s = 0; s < n; ++s) {
        const T* p = y[s] + std::ptrdiff_t(c) * plane;
#pragma omp simd reduction(+ : acc)
        for (int i = 0; i < plane; ++i) acc += double(p[i]);
      }
      out_accumulate[c] += T(acc);
    }
  }

  // ---- batch normalisation ------------------------------------------------------------------------------
  // Batch mean and biased variance per channel (two passes, double accumulators).
  static void bn_stats(Strided<const T> x, int n, int C, int plane, T* mean, T* var) {
    const double count = double(n) * plane;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; ++c) {
      // Sums of one sample's plane in T (vectorised), of the planes in double.
      double sum = 0;
      for (int s = 0; s < n; ++s) {
        const T* p = x[s] + std::ptrdiff_t(c) * plane;
        T part = 0;
#pragma omp simd reduction(+ : part)
        for (int i = 0; i < plane; ++i) part += p[i];
        sum += part;
      }
      const double m = sum / count;
      const T mt = T(m);
      double sq = 0;
      for (int s = 0; s < n; ++s) {
        const T* p = x[s] + std::ptrdiff_t(c) * plane;
        T part = 0;
#pragma omp simd reduction(+ : part)
        for (int i = 0; i < plane; ++i) part += (p[i] - mt) * (p[i] - mt);
        sq += part;
      }
      mean[c] = T(m);
      var[c] = T(sq / count);
    }
  }
  // Turns the batch variance into invstd and moves the running statistics (training), or takes the running
  // statistics as they are (evaluation). `count` is the number of values per channel in the batch.
  static void bn_prepare(T* mean, T* var_invstd, T* running_mean, T* running_var, int C, double count,
                         double momentum, double eps, bool training) {
    for (int c = 0; c < C; ++c) {
      if (training) {
        const double unbiased = count > 1 ? double(var_invstd[c]) * count / (count - 1) : double(var_invstd[c]);
        running_mean[c] = T((1 - momentum) * running_mean[c] + momentum * mean[c]);
        running_var[c] = T((1 - momentum) * running_var[c] + momentum * unbiased);
        var_invstd[c] = T(1.0 / std::sqrt(double(var_invstd[c]) + eps));
      } else {
        mean[c] = running_mean[c];
        var_invstd[c] = T(1.0 / std::sqrt(double(running_var[c]) + eps));
      }
    }
  }
  // y = act((x - mean) * invstd * gamma + beta); act is the identity or GELU (BatchNorm2d then GELU, one pass).
  static void bn_apply(Strided<const T> x, Strided<T> y, int n, int C, int plane, const T* mean, const T* invstd,
                       const T* gamma, const T* beta, Activation act = Activation::none) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int s = 0; s < n; ++s)
      for (int c = 0; c < C; ++c) bn_apply_plane(x[s], y[s], c, plane, mean, invstd, gamma, beta, act);
  }
  // bn_apply for one sample, on the calling thread (a convolution's epilogue).
  static void bn_apply_sample(const T* x, T* y, int C, int plane, const T* mean, const T* invstd, const T* gamma,
                              const T* beta, Activation act) {
    for (int c = 0; c < C; ++c) bn_apply_plane(x, y, c, plane, mean, invstd, gamma, beta, act);
  }
  static void bn_apply_plane(const T* x, T* y, int c, int plane, const T* mean, const T* invstd, const T* gamma,
                             const T* beta, Activation act) {
    const T scale = invstd[c] * gamma[c], shift = beta[c] - mean[c] * scale;
    const T* in = x + std::ptrdiff_t(c) * plane;
    T* out = y + std::ptrdiff_t(c) * plane;
    if (act == Activation::gelu)
      gelu_row(in, out, plane, scale, shift);
    else
      for (int i = 0; i < plane; ++i) out[i] = in[i] * scale + shift;
  }
  // In place: g holds dL/dy on entry and dL/dx on exit, y = act(BN(x)) as in bn_apply; the activation's input is
  // recomputed from x. batch_stats: the statistics depended on x (training).
  // Rounding that is the same for every element of a channel comes back N-fold in sums over the batch (the
  // gradient of a bias before training-mode BatchNorm, zero in exact arithmetic, came out at 2e-5 where PyTorch's
  // own noise is 7e-5 and the parity tolerance 9e-5). So the sums are double, x - mean is centred on the mean of its
  // own float values (`centre`: mean is the batch mean rounded to float), and the result is formed in double.
  static void bn_backward(Strided<const T> x, Strided<T> g, int n, int C, int plane, const T* mean,
                          const T* invstd, const T* gamma, const T* beta, T* dgamma, T* dbeta, bool batch_stats,
                          Activation act = Activation::none) {
    const double count = double(n) * plane;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; ++c) {
      double sum_g = 0, sum_gx = 0, sum_x = 0;
      const T m = mean[c], is = invstd[c], scale = is * gamma[c], shift = beta[c] - m * scale;
      for (int s = 0; s < n; ++s) {
        const T* xp = x[s] + std::ptrdiff_t(c) * plane;
        T* gp = g[s] + std::ptrdiff_t(c) * plane;
        if (act == Activation::gelu) gelu_grad_row(xp, gp, plane, scale, shift);
        // double sums: the mean gradient mg is subtracted from every element, so its error returns N-fold
#pragma omp simd reduction(+ : sum_g, sum_gx, sum_x)
        for (int i = 0; i < plane; ++i) {
          const T d = xp[i] - m;
          sum_g += double(gp[i]);
          sum_gx += double(gp[i]) * double(d);
          sum_x += double(d);
        }
      }
      const double centre = batch_stats ? sum_x / count : 0.0;  // mean is the running mean otherwise
      sum_gx = (sum_gx - centre * sum_g) * is;  // sum of g * xhat
      dgamma[c] += T(sum_gx);
      dbeta[c] += T(sum_g);
      // In double, stored once: with float mg and mgx their roundings came back N-fold in the channel's sum.
      const double k = double(gamma[c]) * is, ks = k * is;
      const double mg = batch_stats ? sum_g / count : 0.0;
      const double mgx = batch_stats ? sum_gx / count : 0.0;
      for (int s = 0; s < n; ++s) {
        const T* xp = x[s] + std::ptrdiff_t(c) * plane;
        T* gp = g[s] + std::ptrdiff_t(c) * plane;
#pragma omp simd
        for (int i = 0; i < plane; ++i)
          gp[i] = T(k * (double(gp[i]) - mg) - ks * (double(xp[i] - m) - centre) * mgx);
      }
    }
  }

  // ---- element-wise -------------------------------------------------------------------------------------
  // Rows of z = x * scale + shift through GELU (out = gelu(z)) or its derivative (g *= gelu'(z)), with Eigen's
  // vectorised erf and exp.
  using Row = Eigen::Array<T, Eigen::Dynamic, 1>;
  static void gelu_row(const T* x, T* out, std::ptrdiff_t len, T scale = T(1), T shift = T(0)) {
    Eigen::Map<const Row> in(x, len);
    Eigen::Map<Row> y(out, len);
    const auto z = in * scale + shift;
    y = T(0.5) * z * (T(1) + (z * T(M_SQRT1_2)).erf());
  }
  static void gelu_grad_row(const T* x, T* g, std::ptrdiff_t len, T scale = T(1), T shift = T(0)) {
    Eigen::Map<const Row> in(x, len);
    Eigen::Map<Row> grad(g, len);
    const auto z = in * scale + shift;
    grad *= T(0.5) * (T(1) + (z * T(M_SQRT1_2)).erf()) + z * (T(-0.5) * z.square()).exp() * T(0.5 * M_2_SQRTPI * M_SQRT1_2);
  }
  static void gelu_forward(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len) {
#pragma omp parallel for schedule(static)
    for (int s = 0; s < n; ++s) gelu_row(x[s], y[s], len);
  }
  // In place: g holds dL/dy on entry and dL/dx on exit.
  static void gelu_backward(Strided<const T> x, Strided<T> g, int n, std::ptrdiff_t len) {
#pragma omp parallel for schedule(static)
    for (int s = 0; s < n; ++s) gelu_grad_row(x[s], g[s], len);
  }
  static void copy_rows(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len) {
#pragma omp parallel for schedule(static)
    for (int s = 0; s < n; ++s) std::copy(x[s], x[s] + len, y[s]);
  }
  static void add_rows(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len) {
#pragma omp parallel for schedule(static)
    for (int s = 0; s < n; ++s)
      for (std::ptrdiff_t i = 0; i < len; ++i) y[s][i] += x[s][i];
  }

  // y = a * y + b * x (weight averaging).
  static void blend(T* y, const T* x, std::ptrdiff_t len, T a, T b) {
#pragma omp parallel for schedule(static) if (len > 65536)
    for (std::ptrdiff_t i = 0; i < len; ++i) y[i] = a * y[i] + b * x[i];
  }

  // Average pooling with a k x k window and stride k (no padding).
  static void avgpool_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int k) {
    const int ho = h / k, wo = w / k;
    const T inv = T(1) / T(k * k);
#pragma omp parallel for collapse(2) schedule(static)
    for (int s = 0; s < n; ++s)
      for (int c = 0; c < C; ++c) {
        const T* in = x[s] + std::ptrdiff_t(c) * h * w;
        T* out = y[s] + std::ptrdiff_t(c) * ho * wo;
        for (int oy = 0; oy < ho; ++oy)
          for (int ox = 0; ox < wo; ++ox) {
            T acc = 0;
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) acc += in[(oy * k + ky) * w + ox * k + kx];
            out[oy * wo + ox] = acc * inv;
          }
      }
  }
  static void avgpool_backward(Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w, int k, bool accumulate) {
    const int ho = h / k, wo = w / k;
    const T inv = T(1) / T(k * k);
#pragma omp parallel for collapse(2) schedule(static)
    for (int s = 0; s < n; ++s)
      for (int c = 0; c < C; ++c) {
        const T* g = dy[s] + std::ptrdiff_t(c) * ho * wo;
        T* out = dx[s] + std::ptrdiff_t(c) * h * w;
        for (int iy = 0; iy < h; ++iy)
          for (int ix = 0; ix < w; ++ix) {
            const T v = g[(iy / k) * wo + ix / k] * inv;
            out[iy * w + ix] = accumulate ? out[iy * w + ix] + v : v;
          }
      }
  }

  // y = h * scale[c] (+ shift[c]): conditioning signals broadcast over the plane.
  static void modulate_forward(Strided<const T> h, Strided<const T> scale, Strided<const T> shift, Strided<T> y,
                               int n, int C, int plane) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int s = 0; s < n; ++s)
      for (int c = 0; c < C; ++c) {
        const T a = scale[s][c], b = shift.data ? shift[s][c] : T(0);
        const T* in = h[s] + std::ptrdiff_t(c) * plane;
        T* out = y[s] + std::ptrdiff_t(c) * plane;
        for (int i = 0; i < plane; ++i) out[i] = in[i] * a + b;
      }
  }
  static void modulate_backward(Strided<const T> h, Strided<const T> scale, Strided<const T> dy, Strided<T> dh,
                                Strided<T> dscale, Strided<T> dshift, int n, int C, int plane) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int s = 0; s < n; ++s)
      for (int c = 0; c < C; ++c) {
        const T a = scale[s][c];
        const T* in = h[s] + std::ptrdiff_t(c) * plane;
        const T* g = dy[s] + std::ptrdiff_t(c) * plane;
        T* out = dh[s] + std::ptrdiff_t(c) * plane;
        T sa = 0, sb = 0;
        for (int i = 0; i < plane; ++i) {
          sa += g[i] * in[i];
          sb += g[i];
          out[i] = g[i] * a;
        }
        dscale[s][c] = sa;
        if (dshift.data) dshift[s][c] = sb;
      }
  }

  // Mean squared error over all elements into *loss (backend memory); writes dL/dpred when grad is given.
  static void mse(Strided<const T> pred, Strided<const T> target, Strided<T> grad, int n, std::ptrdiff_t len,
                  double* loss) {
    const double count = double(n) * len;
    double total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (int s = 0; s < n; ++s) {
      double acc = 0;
      for (std::ptrdiff_t i = 0; i < len; ++i) {
        const double d = double(pred[s][i]) - double(target[s][i]);
        acc += d * d;
        if (grad.data) grad[s][i] = T(2.0 * d / count);
      }
      total += acc;
    }
    *loss = total / count;
  }

  // Flow matching's pair: xt = (1 - t) x0 + t x1 and target = x1 - x0, one t per sample.
  static void interpolate(Strided<const T> x0, Strided<const T> x1, const T* t, Strided<T> xt, Strided<T> target,
                          int n, std::ptrdiff_t len) {
#pragma omp parallel for schedule(static)
    for (int s = 0; s < n; ++s)
      for (std::ptrdiff_t i = 0; i < len; ++i) {
        xt[s][i] = (T(1) - t[s]) * x0[s][i] + t[s] * x1[s][i];
        target[s][i] = x1[s][i] - x0[s][i];
      }
  }

  // Adam step with bias correction, PyTorch's formulation (eps added after the square root).
  static void adam_update(T* p, const T* g, T* m, T* v, std::ptrdiff_t len, double lr, double beta1, double beta2,
                          double eps, double weight_decay, long step) {
    const double bc1 = 1.0 - std::pow(beta1, double(step)), bc2 = 1.0 - std::pow(beta2, double(step));
    const T step_size = T(lr / bc1), sqrt_bc2 = T(std::sqrt(bc2));
    const T b1 = T(beta1), b2 = T(beta2), e = T(eps), wd = T(weight_decay);
#pragma omp parallel for schedule(static) if (len > 65536)
    for (std::ptrdiff_t i = 0; i < len; ++i) {
      const T gi = wd != T(0) ? g[i] + wd * p[i] : g[i];
      m[i] = b1 * m[i] + (T(1) - b1) * gi;
      v[i] = b2 * v[i] + (T(1) - b2) * gi * gi;
      p[i] -= step_size * m[i] / (std::sqrt(v[i]) / sqrt_bc2 + e);
    }
  }
};

using cpu = basic_cpu<float>;
using cpu_f64 = basic_cpu<double>;

}  // namespace unetflow
