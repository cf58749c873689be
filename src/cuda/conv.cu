// Convolutions on the GPU: a tile of samples is unfolded (im2col) into one column matrix [ci*k*k][m*ho*wo] and
// multiplied by the weights with one cuBLAS GEMM; the data gradient folds the columns back by gathering (each
// input pixel sums its own contributions: no atomics, deterministic).
#include <algorithm>
#include <stdexcept>

#include "detail.cuh"

namespace unetflow {
namespace cuda_detail {

// col[r][j*hw + o] for r = (c, ky, kx), sample j of the tile, output pixel o.
__global__ void im2col_kernel(const T* x, std::ptrdiff_t x_stride, T* col, std::ptrdiff_t ld, int m, ConvGeom g) {
  const int hw = g.ho * g.wo;
  const std::ptrdiff_t total = std::ptrdiff_t(g.ci) * g.k * g.k * m * hw;
  UNETFLOW_FOR(e, total) {
    const std::ptrdiff_t r = e / (std::ptrdiff_t(m) * hw);
    const int rest = int(e - r * m * hw), j = rest / hw, o = rest % hw;
    const int kx = int(r % g.k), ky = int((r / g.k) % g.k), c = int(r / (g.k * g.k));
    const int iy = (o / g.wo) * g.s - g.p + ky, ix = (o % g.wo) * g.s - g.p + kx;
    T v = 0;
    if (iy >= 0 && iy < g.hi && ix >= 0 && ix < g.wi) v = x[j * x_stride + (std::ptrdiff_t(c) * g.hi + iy) * g.wi + ix];
    col[r * ld + std::ptrdiff_t(j) * hw + o] = v;
  }
}

// dx[j][c][iy][ix] (+)= sum of the columns that read that pixel.
__global__ void col2im_kernel(const T* col, std::ptrdiff_t ld, T* dx, std::ptrdiff_t dx_stride, int m, ConvGeom g,
                              bool accumulate) {
  const int hw = g.ho * g.wo;
  const std::ptrdiff_t image = std::ptrdiff_t(g.ci) * g.hi * g.wi, total = image * m;
  UNETFLOW_FOR(e, total) {
    const int j = int(e / image);
    const std::ptrdiff_t rest = e - std::ptrdiff_t(j) * image;
    const int c = int(rest / (g.hi * g.wi)), iy = int(rest / g.wi % g.hi), ix = int(rest % g.wi);
    T acc = 0;
    for (int ky = 0; ky < g.k; ++ky) {
      const int ty = iy + g.p - ky;
      if (ty < 0 || ty % g.s) continue;
      const int oy = ty / g.s;
      if (oy >= g.ho) continue;
      for (int kx = 0; kx < g.k; ++kx) {
        const int tx = ix + g.p - kx;
        if (tx < 0 || tx % g.s) continue;
        const int ox = tx / g.s;
        if (ox >= g.wo) continue;
        acc += col[((std::ptrdiff_t(c) * g.k + ky) * g.k + kx) * ld + std::ptrdiff_t(j) * hw + oy * g.wo + ox];
      }
    }
    T& out = dx[j * dx_stride + rest];
    out = accumulate ? out + acc : acc;
  }
}

// Between per-sample maps y[j][r][hw] and a tile matrix [r][m*hw].
__global__ void gather_tile_kernel(const T* y, std::ptrdiff_t stride, int m, int rows, int hw, T* tile) {
  const std::ptrdiff_t total = std::ptrdiff_t(rows) * m * hw;
  UNETFLOW_FOR(e, total) {
    const int r = int(e / (std::ptrdiff_t(m) * hw)), rest = int(e % (std::ptrdiff_t(m) * hw)), j = rest / hw, o = rest % hw;
    tile[e] = y[j * stride + std::ptrdiff_t(r) * hw + o];
  }
}
__global__ void scatter_tile_kernel(const T* tile, T* y, std::ptrdiff_t stride, int m, int rows, int hw, bool accumulate) {
  const std::ptrdiff_t total = std::ptrdiff_t(rows) * m * hw;
  UNETFLOW_FOR(e, total) {
    const int r = int(e / (std::ptrdiff_t(m) * hw)), rest = int(e % (std::ptrdiff_t(m) * hw)), j = rest / hw, o = rest % hw;
    T& out = y[j * stride + std::ptrdiff_t(r) * hw + o];
    out = accumulate ? out + tile[e] : tile[e];
  }
}

// Samples per GEMM: as many as fit a 64M-float column matrix.
int conv_tile(const ConvGeom& g, int n) {
  const std::ptrdiff_t per_sample = g.col_rows() * g.col_cols(), budget = std::ptrdiff_t(1) << 26;
  return int(std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(n, budget / std::max<std::ptrdiff_t>(per_sample, 1))));
}

void im2col(Strided<const T> x, int s0, int m, T* col, const ConvGeom& g) {
  const std::ptrdiff_t total = g.col_rows() * m * g.col_cols();
  im2col_kernel<<<grid_for(total), block, 0, stream()>>>(x[s0], x.stride, col, std::ptrdiff_t(m) * g.col_cols(), m, g);
  launched("im2col");
}
void gather_tile(Strided<const T> y, int s0, int m, int rows, int hw, T* tile) {
  gather_tile_kernel<<<grid_for(std::ptrdiff_t(rows) * m * hw), block, 0, stream()>>>(y[s0], y.stride, m, rows, hw, tile);
  launched("gather_tile");
}
// The contract lets a backend without conv_epilogues refuse an epilogue; ConvBnGelu never passes one here.
void refuse_epilogue(const SampleEpilogue& done) {
  if (done) throw std::logic_error("cuda: convolutions take no per-sample epilogue (cuda::conv_epilogues is false)");
}

}  // namespace cuda_detail

using namespace cuda_detail;

void cuda::conv_forward(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g, bool accumulate,
                        SampleEpilogue done) {
  refuse_epilogue(done);
  const int rows = int(g.col_rows()), hw = int(g.col_cols()), tile = conv_tile(g, n);
  T* col = scratch(Use::columns, 0, std::ptrdiff_t(rows) * hw * tile);
  T* out = scratch(Use::tile, 0, std::ptrdiff_t(g.co) * hw * tile);
  for (int s0 = 0; s0 < n; s0 += tile) {
    const int m = std::min(tile, n - s0), ld = m * hw;
    im2col(x, s0, m, col, g);
    gemm(false, false, g.co, ld, rows, T(1), w, rows, col, ld, T(0), out, ld);
    scatter_tile_kernel<<<grid_for(std::ptrdiff_t(g.co) * ld), block, 0, stream()>>>(out, y[s0], y.stride, m, g.co, hw, accumulate);
    launched("scatter_tile");
  }
}

void cuda::conv_backward_data(Strided<const T> dy, const T* w, Strided<T> dx, int n, const ConvGeom& g, bool accumulate,
                              SampleEpilogue done) {
  refuse_epilogue(done);
  const int rows = int(g.col_rows()), hw = int(g.col_cols()), tile = conv_tile(g, n);
  T* col = scratch(Use::columns, 0, std::ptrdiff_t(rows) * hw * tile);
  T* in = scratch(Use::tile, 0, std::ptrdiff_t(g.co) * hw * tile);
  for (int s0 = 0; s0 < n; s0 += tile) {
    const int m = std::min(tile, n - s0), ld = m * hw;
    gather_tile(dy, s0, m, g.co, hw, in);
    gemm(true, false, rows, ld, g.co, T(1), w, rows, in, ld, T(0), col, ld);
    const std::ptrdiff_t total = std::ptrdiff_t(g.ci) * g.hi * g.wi * m;
    col2im_kernel<<<grid_for(total), block, 0, stream()>>>(col, ld, dx[s0], dx.stride, m, g, accumulate);
    launched("col2im");
  }
}

void cuda::conv_backward_weight(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g) {
  const int rows = int(g.col_rows()), hw = int(g.col_cols()), tile = conv_tile(g, n);
  T* col = scratch(Use::columns, 0, std::ptrdiff_t(rows) * hw * tile);
  T* in = scratch(Use::tile, 0, std::ptrdiff_t(g.co) * hw * tile);
  for (int s0 = 0; s0 < n; s0 += tile) {
    const int m = std::min(tile, n - s0), ld = m * hw;
    im2col(x, s0, m, col, g);
    gather_tile(dy, s0, m, g.co, hw, in);
    gemm(false, true, g.co, rows, ld, T(1), in, ld, col, ld, T(1), dw, rows);
  }
}

}  // namespace unetflow
