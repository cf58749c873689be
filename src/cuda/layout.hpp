#pragma once
// The index arithmetic of the CUDA kernels, written once for the device and the host: the kernels call it, and
// the CPU unit tests (tests/cuda_layout_test.cpp) check it on many geometries without a GPU.
//
// Every loop is two-dimensional: a row index that is uniform across a block (a column-matrix row, a sample, a
// (sample, channel) pair) and a 32-bit index within the row, so that no element pays a 64-bit division. The
// host checks the 32-bit ranges before it launches (fits_index).
#include <cstddef>
#include <cstdint>

#include <unetflow/backend/common.hpp>

#if defined(__CUDACC__)
#define UNETFLOW_HD __host__ __device__ inline
#else
#define UNETFLOW_HD inline
#endif

namespace unetflow::cuda_layout {

// Indices within a row stay below 2^30, so that i + (grid stride) cannot overflow an int either.
constexpr std::ptrdiff_t index_limit = std::ptrdiff_t(1) << 30;
constexpr bool fits_index(std::ptrdiff_t n) { return n >= 0 && n < index_limit; }

// ---- convolution: the unfolded (im2col) column matrix of a tile of m samples ------------------------------
// Row r = (c, ky, kx) of the column matrix; column e = (sample j of the tile, output pixel oy * wo + ox).
struct ColumnRow {
  int c, ky, kx;
};
UNETFLOW_HD ColumnRow column_row(const ConvGeom& g, int r) {
  return {r / (g.k * g.k), (r / g.k) % g.k, r % g.k};
}
// The input element that column element (row, e) holds: its offset within sample j's image (c, hi, wi), or -1
// where the kernel reads the zero padding. Sets j.
UNETFLOW_HD int im2col_source(const ConvGeom& g, ColumnRow row, int e, int& j) {
  const int hw = g.ho * g.wo;
  j = e / hw;
  const int o = e - j * hw, oy = o / g.wo, ox = o - oy * g.wo;
  const int iy = oy * g.s - g.p + row.ky, ix = ox * g.s - g.p + row.kx;
  if (iy < 0 || iy >= g.hi || ix < 0 || ix >= g.wi) return -1;
  return (row.c * g.hi + iy) * g.wi + ix;
}
// The sum of the column elements that hold input pixel (c, iy, ix) of sample j: the transpose of im2col, as a
// gather (each input pixel sums its own contributions, in a fixed order: no atomics, deterministic).
template <class V>
UNETFLOW_HD V col2im_sum(const V* col, std::ptrdiff_t ld, const ConvGeom& g, int c, int j, int iy, int ix) {
  const int column0 = j * g.ho * g.wo;
  V acc = 0;
  for (int ky = 0; ky < g.k; ++ky) {
    const int ty = iy + g.p - ky;
    if (ty < 0 || ty % g.s != 0 || ty / g.s >= g.ho) continue;
    const int oy = ty / g.s;
    for (int kx = 0; kx < g.k; ++kx) {
      const int tx = ix + g.p - kx;
      if (tx < 0 || tx % g.s != 0 || tx / g.s >= g.wo) continue;
      const std::ptrdiff_t r = (std::ptrdiff_t(c) * g.k + ky) * g.k + kx;
      acc += col[r * ld + column0 + oy * g.wo + tx / g.s];
    }
  }
  return acc;
}

// ---- per-channel reductions, split over several blocks --------------------------------------------------
// Channel c's n * plane elements, in the order (sample, position), are cut into `parts` consecutive ranges of
// `chunk` elements (the last one shorter or empty); one block reduces each, and a second pass adds the parts in
// order: the same shape always gives the same sums, whatever the timing.
struct Split {
  int parts, chunk;
};
constexpr int reduction_parts_max = 64, reduction_chunk_min = 8192;
UNETFLOW_HD Split split_channel(int count) {
  int parts = (count + reduction_chunk_min - 1) / reduction_chunk_min;
  parts = parts < 1 ? 1 : (parts > reduction_parts_max ? reduction_parts_max : parts);
  return {parts, (count + parts - 1) / parts};
}
struct Range {
  int begin, end;
};
UNETFLOW_HD Range part_range(Split s, int count, int part) {
  const long long begin = static_cast<long long>(part) * s.chunk, end = begin + s.chunk;
  return {int(begin < count ? begin : count), int(end < count ? end : count)};
}
// Element i (in (sample, position) order) of channel c, in rows `stride` apart holding C planes of `plane`.
UNETFLOW_HD std::ptrdiff_t channel_element(int i, int plane, int c, std::ptrdiff_t stride) {
  const int s = i / plane;
  return s * stride + std::ptrdiff_t(c) * plane + (i - s * plane);
}

}  // namespace unetflow::cuda_layout
