// The CUDA kernels' index arithmetic (src/cuda/layout.hpp), checked on the host, where it runs without a GPU:
// a convolution through its im2col and col2im must equal the CPU policy's, on every kind of geometry the library
// uses; a split reduction must visit each element of a channel once; the cuDNN engine's choice of algorithm keeps
// to the math it promises (src/cuda/cudnn_rules.hpp).
#include <doctest/doctest.h>

#include <set>
#include <unetflow/backend/cpu.hpp>
#include <unetflow/random.hpp>
#include <unetflow/testing/compare.hpp>
#include <vector>

#include "../src/cuda/cudnn_rules.hpp"
#include "../src/cuda/layout.hpp"

using namespace unetflow;
namespace layout = unetflow::cuda_layout;

namespace {

ConvGeom geometry(int ci, int hi, int wi, int co, int k, int s, int p) {
  return {ci, hi, wi, co, (hi + 2 * p - k) / s + 1, (wi + 2 * p - k) / s + 1, k, s, p};
}

// The column matrix of m samples, built element by element as im2col_kernel does.
std::vector<float> unfold(const std::vector<float>& x, std::ptrdiff_t stride, int m, const ConvGeom& g) {
  const int rows = int(g.col_rows()), cols = m * int(g.col_cols());
  std::vector<float> col(std::size_t(rows) * cols, -99.f);
  for (int r = 0; r < rows; ++r) {
    const auto row = layout::column_row(g, r);
    for (int e = 0; e < cols; ++e) {
      int j = -1;
      const int at = layout::im2col_source(g, row, e, j);
      REQUIRE(j >= 0);
      REQUIRE(j < m);
      REQUIRE(at < g.ci * g.hi * g.wi);
      col[std::size_t(r) * cols + e] = at < 0 ? 0.f : x[std::size_t(j * stride + at)];
    }
  }
  return col;
}

// out[a][b] = sum_c A[a][c] B[c][b], or with A transposed.
std::vector<float> matmul(const std::vector<float>& A, bool ta, int M, int K, const std::vector<float>& B, int N) {
  std::vector<float> out(std::size_t(M) * N, 0.f);
  for (int a = 0; a < M; ++a)
    for (int c = 0; c < K; ++c) {
      const float w = ta ? A[std::size_t(c) * M + a] : A[std::size_t(a) * K + c];
      for (int b = 0; b < N; ++b) out[std::size_t(a) * N + b] += w * B[std::size_t(c) * N + b];
    }
  return out;
}

void check_geometry(const ConvGeom& g) {
  CAPTURE(g.ci);
  CAPTURE(g.hi);
  CAPTURE(g.wi);
  CAPTURE(g.co);
  CAPTURE(g.k);
  CAPTURE(g.s);
  CAPTURE(g.p);
  Rng rng(31, 1);
  const int m = 3, rows = int(g.col_rows()), hw = int(g.col_cols()), cols = m * hw;
  const std::ptrdiff_t x_stride = std::ptrdiff_t(g.ci) * g.hi * g.wi + 5, y_stride = std::ptrdiff_t(g.co) * hw + 3;
  std::vector<float> x(std::size_t(m * x_stride)), w(std::size_t(g.co) * rows), dy(std::size_t(m * y_stride));
  rng.fill_uniform(x.data(), std::ptrdiff_t(x.size()), -1, 1);
  rng.fill_uniform(w.data(), std::ptrdiff_t(w.size()), -1, 1);
  rng.fill_uniform(dy.data(), std::ptrdiff_t(dy.size()), -1, 1);

  // Forward: W [co][rows] times the columns, sample j's output at columns j * hw ...
  const auto col = unfold(x, x_stride, m, g);
  const auto y_tile = matmul(w, false, g.co, rows, col, cols);
  std::vector<float> y_ref(std::size_t(m * y_stride), 0.f);
  cpu::conv_forward({x.data(), x_stride}, w.data(), {y_ref.data(), y_stride}, m, g, false);
  std::vector<float> got, want;
  for (int j = 0; j < m; ++j)
    for (int o = 0; o < g.co; ++o)
      for (int i = 0; i < hw; ++i) {
        got.push_back(y_tile[std::size_t(o) * cols + j * hw + i]);
        want.push_back(y_ref[std::size_t(j * y_stride + o * hw + i)]);
      }
  CHECK(testing::rel_error(got, want) <= 1e-5);

  // Data gradient: the columns W^T dy folded back by col2im_sum, against the CPU policy's.
  std::vector<float> dy_tile(std::size_t(g.co) * cols);
  for (int o = 0; o < g.co; ++o)
    for (int e = 0; e < cols; ++e) dy_tile[std::size_t(o) * cols + e] = dy[std::size_t((e / hw) * y_stride + o * hw + e % hw)];
  const auto dcol = matmul(w, true, rows, g.co, dy_tile, cols);
  std::vector<float> dx_ref(std::size_t(m * x_stride), 0.f);
  cpu::conv_backward_data({dy.data(), y_stride}, w.data(), {dx_ref.data(), x_stride}, m, g, false);
  got.clear();
  want.clear();
  for (int j = 0; j < m; ++j)
    for (int c = 0; c < g.ci; ++c)
      for (int iy = 0; iy < g.hi; ++iy)
        for (int ix = 0; ix < g.wi; ++ix) {
          got.push_back(layout::col2im_sum(dcol.data(), cols, g, c, j, iy, ix));
          want.push_back(dx_ref[std::size_t(j * x_stride + (c * g.hi + iy) * g.wi + ix)]);
        }
  CHECK(testing::rel_error(got, want) <= 1e-5);
}

}  // namespace

TEST_CASE("CUDA index arithmetic: im2col and col2im give the CPU policy's convolution and its data gradient") {
  check_geometry(geometry(3, 7, 5, 4, 3, 1, 1));    // 3x3, padding 1, not square
  check_geometry(geometry(2, 14, 14, 3, 3, 2, 1));  // stride 2 (DownConv)
  check_geometry(geometry(3, 14, 14, 2, 4, 2, 1));  // the convolution behind ConvTranspose2d 4x4 stride 2
  check_geometry(geometry(2, 7, 7, 3, 7, 7, 0));    // 7x7 stride 7: the Unflatten's transposed convolution
  check_geometry(geometry(4, 6, 9, 5, 1, 1, 0));    // 1x1
  check_geometry(geometry(1, 5, 5, 2, 3, 1, 2));    // padding wider than the kernel's reach on one side
}

TEST_CASE("CUDA index arithmetic: a split channel reduction visits each element once") {
  for (int count : {0, 1, 5, 8191, 8192, 8193, 12544, 200704, (1 << 20) + 3, (1 << 29) + 7}) {
    CAPTURE(count);
    const layout::Split split = layout::split_channel(count);
    CHECK(split.parts >= 1);
    CHECK(split.parts <= layout::reduction_parts_max);
    CHECK(std::ptrdiff_t(split.parts) * split.chunk >= count);
    int next = 0;
    for (int p = 0; p < split.parts; ++p) {
      const layout::Range r = layout::part_range(split, count, p);
      CHECK(r.begin == next);  // consecutive, in part order
      CHECK(r.end >= r.begin);
      CHECK(r.end - r.begin <= split.chunk);
      next = r.end;
    }
    CHECK(next == count);
    if (count >= 64 * layout::reduction_chunk_min) CHECK(split.parts == layout::reduction_parts_max);
  }
  // Channel c's elements over a batch of rows wider than the C planes (a channel-slice view).
  const int n = 3, C = 4, plane = 5;
  const std::ptrdiff_t stride = C * plane + 7;
  std::set<std::ptrdiff_t> seen;
  for (int c = 0; c < C; ++c)
    for (int i = 0; i < n * plane; ++i) {
      const std::ptrdiff_t at = layout::channel_element(i, plane, c, stride);
      CHECK(at == (i / plane) * stride + c * plane + i % plane);
      CHECK(at % stride < C * plane);
      seen.insert(at);
    }
  CHECK(seen.size() == std::size_t(n * C * plane));
  CHECK(layout::fits_index((std::ptrdiff_t(1) << 30) - 1));
  CHECK_FALSE(layout::fits_index(std::ptrdiff_t(1) << 30));
  CHECK_FALSE(layout::fits_index(-1));
}

TEST_CASE("cuDNN algorithms: deterministic, within the workspace, FMA for FP32, tensor cores only with TF32, never FP16") {
  using cudnn_rules::Math;
  using cudnn_rules::math_allowed;
  for (bool tf32 : {false, true}) {
    CAPTURE(tf32);
    CHECK(math_allowed(Math::fma, tf32));
    CHECK(math_allowed(Math::default_math, tf32));
    CHECK(math_allowed(Math::tensor_op, tf32) == tf32);
    CHECK_FALSE(math_allowed(Math::tensor_op_allow_conversion, tf32));  // FP16 down-conversion: another precision
  }
  constexpr std::size_t limit = 1 << 20;
  CHECK(cudnn_rules::algorithm_allowed(true, true, limit, limit, Math::fma, false));
  CHECK_FALSE(cudnn_rules::algorithm_allowed(false, true, 0, limit, Math::fma, false));       // cuDNN failed it
  CHECK_FALSE(cudnn_rules::algorithm_allowed(true, false, 0, limit, Math::fma, false));       // not deterministic
  CHECK_FALSE(cudnn_rules::algorithm_allowed(true, true, limit + 1, limit, Math::fma, true));  // beyond the workspace
}
