// Convolutions on the GPU, by the engine selected (cuda::set_conv_engine). The im2col engine, here: a tile of
// samples is unfolded (im2col) into one column matrix [ci*k*k][m*ho*wo] and multiplied by the weights with one
// cuBLAS GEMM; the data gradient folds the columns back by gathering (each input pixel sums its own
// contributions: no atomics, deterministic). The cuDNN engine is in cudnn.cu.
#include <algorithm>
#include <stdexcept>

#include "detail.cuh"

namespace unetflow {
namespace cuda_detail {

// col[r][e] for row r = (c, ky, kx) and column e = (sample j of the tile, output pixel): rows over y.
__global__ void im2col_kernel(const T* x, std::ptrdiff_t x_stride, T* col, std::ptrdiff_t ld, int rows, int cols,
                              ConvGeom g) {
  UNETFLOW_FOR_ROWS(r, rows) {
    const cuda_layout::ColumnRow row = cuda_layout::column_row(g, r);
    T* out = col + std::ptrdiff_t(r) * ld;
    UNETFLOW_FOR_IN_ROW(e, cols) {
      int j = 0;
      const int at = cuda_layout::im2col_source(g, row, e, j);
      out[e] = at < 0 ? T(0) : x[j * x_stride + at];
    }
  }
}

// dx[j][c][iy][ix] (+)= the sum of the columns that read that pixel: rows (channels) over y, (sample, pixel)
// within a row.
__global__ void col2im_kernel(const T* col, std::ptrdiff_t ld, T* dx, std::ptrdiff_t dx_stride, int m, ConvGeom g,
                              bool accumulate) {
  const int image = g.hi * g.wi, len = m * image;
  UNETFLOW_FOR_ROWS(c, g.ci) {
    UNETFLOW_FOR_IN_ROW(e, len) {
      const int j = e / image, pixel = e - j * image, iy = pixel / g.wi, ix = pixel - iy * g.wi;
      const T acc = cuda_layout::col2im_sum(col, ld, g, c, j, iy, ix);
      T& out = dx[j * dx_stride + std::ptrdiff_t(c) * image + pixel];
      out = accumulate ? out + acc : acc;
    }
  }
}

// Between per-sample maps y[j][r][hw] and a tile matrix [r][m*hw]: rows r over y.
__global__ void gather_tile_kernel(const T* y, std::ptrdiff_t stride, int m, int rows, int hw, T* tile) {
  const int len = m * hw;
  UNETFLOW_FOR_ROWS(r, rows) {
    UNETFLOW_FOR_IN_ROW(e, len) {
      const int j = e / hw;
      tile[std::ptrdiff_t(r) * len + e] = y[j * stride + std::ptrdiff_t(r) * hw + (e - j * hw)];
    }
  }
}
__global__ void scatter_tile_kernel(const T* tile, T* y, std::ptrdiff_t stride, int m, int rows, int hw, bool accumulate) {
  const int len = m * hw;
  UNETFLOW_FOR_ROWS(r, rows) {
    UNETFLOW_FOR_IN_ROW(e, len) {
      const int j = e / hw;
      const T v = tile[std::ptrdiff_t(r) * len + e];
      T& out = y[j * stride + std::ptrdiff_t(r) * hw + (e - j * hw)];
      out = accumulate ? out + v : v;
    }
  }
}

// Samples per GEMM: as many as fit a 64M-float column matrix. (Also where the 32-bit index range of a sample's
// input and output is checked, since every convolution of this engine asks for its tile first.)
int conv_tile(const ConvGeom& g, int n) {
  check_index_range(1, std::ptrdiff_t(g.ci) * g.hi * g.wi, "conv (one sample's input)");
  check_index_range(1, std::ptrdiff_t(g.co) * g.ho * g.wo, "conv (one sample's output)");
  const std::ptrdiff_t per_sample = g.col_rows() * g.col_cols(), budget = std::ptrdiff_t(1) << 26;
  return int(std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(n, budget / std::max<std::ptrdiff_t>(per_sample, 1))));
}

void im2col(Strided<const T> x, int s0, int m, T* col, const ConvGeom& g) {
  const std::ptrdiff_t rows = g.col_rows(), cols = std::ptrdiff_t(m) * g.col_cols();
  im2col_kernel<<<grid_2d(rows, cols, "conv (im2col)"), block, 0, stream()>>>(x[s0], x.stride, col, cols, int(rows),
                                                                             int(cols), g);
  launched("im2col");
}
void gather_tile(Strided<const T> y, int s0, int m, int rows, int hw, T* tile) {
  gather_tile_kernel<<<grid_2d(rows, std::ptrdiff_t(m) * hw, "conv (gather_tile)"), block, 0, stream()>>>(
      y[s0], y.stride, m, rows, hw, tile);
  launched("gather_tile");
}
void scatter_tile(const T* tile, Strided<T> y, int s0, int m, int rows, int hw, bool accumulate) {
  scatter_tile_kernel<<<grid_2d(rows, std::ptrdiff_t(m) * hw, "conv (scatter_tile)"), block, 0, stream()>>>(
      tile, y[s0], y.stride, m, rows, hw, accumulate);
  launched("scatter_tile");
}
void col2im(const T* col, Strided<T> dx, int s0, int m, const ConvGeom& g, bool accumulate) {
  col2im_kernel<<<grid_2d(g.ci, std::ptrdiff_t(m) * g.hi * g.wi, "conv (col2im)"), block, 0, stream()>>>(
      col, std::ptrdiff_t(m) * g.col_cols(), dx[s0], dx.stride, m, g, accumulate);
  launched("col2im");
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
  if (context().conv == ConvEngine::cudnn) return cudnn_conv_forward(x, w, y, n, g, accumulate);
  const int rows = int(g.col_rows()), hw = int(g.col_cols()), tile = conv_tile(g, n);
  T* col = scratch(Use::columns, 0, std::ptrdiff_t(rows) * hw * tile);
  T* out = scratch(Use::tile, 0, std::ptrdiff_t(g.co) * hw * tile);
  for (int s0 = 0; s0 < n; s0 += tile) {
    const int m = std::min(tile, n - s0), ld = m * hw;
    im2col(x, s0, m, col, g);
    gemm(false, false, g.co, ld, rows, T(1), w, rows, col, ld, T(0), out, ld);
    scatter_tile(out, y, s0, m, g.co, hw, accumulate);
  }
}

void cuda::conv_backward_data(Strided<const T> dy, const T* w, Strided<T> dx, int n, const ConvGeom& g, bool accumulate,
                              SampleEpilogue done) {
  refuse_epilogue(done);
  if (context().conv == ConvEngine::cudnn) return cudnn_conv_backward_data(dy, w, dx, n, g, accumulate);
  const int rows = int(g.col_rows()), hw = int(g.col_cols()), tile = conv_tile(g, n);
  T* col = scratch(Use::columns, 0, std::ptrdiff_t(rows) * hw * tile);
  T* in = scratch(Use::tile, 0, std::ptrdiff_t(g.co) * hw * tile);
  for (int s0 = 0; s0 < n; s0 += tile) {
    const int m = std::min(tile, n - s0), ld = m * hw;
    gather_tile(dy, s0, m, g.co, hw, in);
    gemm(true, false, rows, ld, g.co, T(1), w, rows, in, ld, T(0), col, ld);
    col2im(col, dx, s0, m, g, accumulate);
  }
}

void cuda::conv_backward_weight(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g) {
  if (context().conv == ConvEngine::cudnn) return cudnn_conv_backward_weight(x, dy, dw, n, g);
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
