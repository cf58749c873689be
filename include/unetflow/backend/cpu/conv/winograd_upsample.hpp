#pragma once
// The 4x4 stride-2 transposed convolution with padding 1 (the UNet's UpConv, h x w -> 2h x 2w) through Winograd
// F(3x3, 2x2). Output pixel (2i + a, 2j + b) sees only a 2x2 window of the input and four of the sixteen taps:
//   y[o][2i + a][2j + b] = sum_c sum_{dy,dx} x[c][i + a - 1 + dy][j + b - 1 + dx] * w[c][o][3 - a - 2dy][3 - b - 2dx]
// so each of the four classes (a, b) is a 2x2 correlation z_ab of the input zero-padded by one, evaluated at
// (h + 1) x (w + 1) positions and read back shifted: y[2i + a][2j + b] = z_ab[i + a][j + b]. All four share
// one input transform; a 4x4 tile gives a 3x3 block of every class through 16 products:
//   U[xi][ab co][c] = (G g_ab G^T)[xi]   G   = [1 0; .5 .5; .5 -.5; 0 1]
//   V[xi][c][p]     = (B^T d B)[xi]      B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 -1 0 1]
//   z_ab block      = A^T M A            A^T = [1 1 1 0; 0 1 -1 0; 0 1 1 1]
// 16 * 4 products per tile of 9 positions where GEMM + col2im spends 16 per position: 1.96x fewer on 14x14
// inputs (25 tiles), 1.36x on 7x7 (9 tiles, the last row and column cut), and no scattered col2im adds.
// Same interface as winograd::F2x2's forward, with `classes` = 4 output rows of M per output channel.
#include <algorithm>
#include <cstddef>

#include "winograd.hpp"

namespace unetflow::winograd {

struct Upsample {
  static constexpr int points = 16, classes = 4;

  // Tiles per class for an h x w input: 3x3 blocks over (h + 1) x (w + 1) positions.
  static int tiles(int h, int w) { return ((h + 3) / 3) * ((w + 3) / 3); }

  // u[16][4 cout][cin] from the transposed convolution's w[cin][cout][4][4]; row (2a + b) * cout + o.
  template <class T>
  static void transform_weights(const T* w, int cin, int cout, T* u) {
    const std::ptrdiff_t plane = std::ptrdiff_t(classes) * cout * cin, stride = point_stride(classes * cout, cin);
    auto g2 = [](T p, T q, T* o) {  // G applied to two values
      o[0] = p;
      o[1] = T(0.5) * (p + q);
      o[2] = T(0.5) * (p - q);
      o[3] = q;
    };
    // o outer, c inner: each kernel w[c][o] is one cache line read, and the 64 values it gives go to 64 rows that
    // are written along c (c inner measured 7 ms for 256 -> 64 channels against <1 ms).
#pragma omp parallel for schedule(static) if (plane >= 4096)  // recomputed at every forward
    for (int o = 0; o < cout; ++o)
      for (int c = 0; c < cin; ++c) {
        const T* k = w + (std::ptrdiff_t(c) * cout + o) * 16;
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b) {
            auto tap = [&](int dy, int dx) { return k[(3 - a - 2 * dy) * 4 + (3 - b - 2 * dx)]; };
            T col[2][4];  // G g, column by column
            for (int dx = 0; dx < 2; ++dx) g2(tap(0, dx), tap(1, dx), col[dx]);
            T* out = u + (std::ptrdiff_t(2 * a + b) * cout + o) * cin + c;
            for (int i = 0; i < 4; ++i) {
              T r[4];
              g2(col[0][i], col[1][i], r);
              for (int j = 0; j < 4; ++j) out[(4 * i + j) * stride] = r[j];
            }
          }
      }
  }

  // v[16][ci][ld] (ld >= tiles(h, w)) from one input x[ci][h][w]: each channel goes into a plane with a zero
  // border (row and column 0 are the padding), tiles start every 3 rows and columns. `scratch` holds
  // input_scratch(h, w) values.
  template <class T>
  static void transform_input(const T* x, int ci, int h, int w, T* v, std::ptrdiff_t ld, T* scratch) {
    const int th = (h + 3) / 3, tw = (w + 3) / 3, pw = 3 * tw + 1, ph = 3 * th + 1;
    const std::ptrdiff_t xi_stride = point_stride(ci, ld);
    T* padded = scratch;
    std::fill(padded, padded + std::ptrdiff_t(ph) * pw, T(0));
    for (int c = 0; c < ci; ++c) {
      const T* plane = x + std::ptrdiff_t(c) * h * w;
      for (int r = 0; r < h; ++r) copy_row(plane + r * w, w, padded + (r + 1) * pw + 1);
      T* out = v + std::ptrdiff_t(c) * ld;
      for (int ty = 0; ty < th; ++ty)
        for (int tx = 0; tx < tw; ++tx) {
          const T* d = padded + std::ptrdiff_t(3 * ty) * pw + 3 * tx;
          T t[4][4];  // B^T d
          for (int k = 0; k < 4; ++k) {
            const T d0 = d[k], d1 = d[pw + k], d2 = d[2 * pw + k], d3 = d[3 * pw + k];
            t[0][k] = d0 - d2;
            t[1][k] = d1 + d2;
            t[2][k] = d2 - d1;
            t[3][k] = d3 - d1;
          }
          T* o = out + ty * tw + tx;
          for (int i = 0; i < 4; ++i) {
            o[(4 * i) * xi_stride] = t[i][0] - t[i][2];
            o[(4 * i + 1) * xi_stride] = t[i][1] + t[i][2];
            o[(4 * i + 2) * xi_stride] = t[i][2] - t[i][1];
            o[(4 * i + 3) * xi_stride] = t[i][3] - t[i][1];
          }
        }
    }
  }
  static std::ptrdiff_t input_scratch(int h, int w) {
    const std::ptrdiff_t pw = 3 * ((w + 3) / 3) + 1, ph = 3 * ((h + 3) / 3) + 1;
    return ph * pw;
  }

  // One sample y[cout][2h][2w] (+)= the four classes' A^T M A from m[16][4 cout][ld], interleaved (h x w is the
  // input's size). Each class and channel is transformed over all its tiles at once (vectorised: a row of tiles is
  // only 3-5 long), then each 3x3 block goes to its pixels. `scratch` holds output_scratch(h, w) values.
  template <class T>
  static void transform_output(const T* m, int cout, std::ptrdiff_t ld, T* y, int h, int w, bool accumulate,
                               T* scratch) {
    const int tw = (w + 3) / 3, th = (h + 3) / 3, tiles = th * tw, H = 2 * h, W = 2 * w;
    const std::ptrdiff_t xs = point_stride(classes * cout, ld);
    T* z = scratch;  // z[9][tiles]: the 3x3 block of every tile, position 3 i + j
    for (int r = 0; r < classes * cout; ++r) {
      const int o = r % cout, a = r / cout / 2, b = r / cout % 2;
      const T* s = m + std::ptrdiff_t(r) * ld;
#pragma omp simd
      for (int p = 0; p < tiles; ++p) {
        T c[3][4];  // A^T M
        for (int j = 0; j < 4; ++j) {
          const T q0 = s[j * xs + p], q1 = s[(4 + j) * xs + p], q2 = s[(8 + j) * xs + p], q3 = s[(12 + j) * xs + p];
          c[0][j] = q0 + q1 + q2;
          c[1][j] = q1 - q2;
          c[2][j] = q1 + q2 + q3;
        }
        for (int i = 0; i < 3; ++i) {
          z[(3 * i) * tiles + p] = c[i][0] + c[i][1] + c[i][2];
          z[(3 * i + 1) * tiles + p] = c[i][1] - c[i][2];
          z[(3 * i + 2) * tiles + p] = c[i][1] + c[i][2] + c[i][3];
        }
      }
      // Position (zy, zx) of class (a, b) is output pixel (2 zy - a, 2 zx - b).
      T* plane = y + std::ptrdiff_t(o) * H * W;
      for (int ty = 0; ty < th; ++ty)
        for (int i = 0; i < 3; ++i) {
          const int oy = 2 * (3 * ty + i) - a;
          if (oy < 0 || oy >= H) continue;
          T* row = plane + std::ptrdiff_t(oy) * W;
          const T* block = z + 3 * i * tiles + ty * tw;
          for (int tx = 0; tx < tw; ++tx)
            for (int j = 0; j < 3; ++j) {
              const int ox = 2 * (3 * tx + j) - b;
              if (ox < 0 || ox >= W) continue;
              const T value = block[j * tiles + tx];
              row[ox] = accumulate ? row[ox] + value : value;
            }
        }
    }
  }
  static std::ptrdiff_t output_scratch(int h, int w) { return 9 * std::ptrdiff_t((h + 3) / 3) * ((w + 3) / 3); }
};

}  // namespace unetflow::winograd
