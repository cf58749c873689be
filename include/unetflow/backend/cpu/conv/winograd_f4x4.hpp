#pragma once
// Winograd F(4x4, 3x3) (Lavin & Gray, 2016; interpolation points 0, 1, -1, 2, -2, infinity): each 4x4 output
// block comes from a 6x6 input tile through 36 products in the transformed space, 2.25 multiplications per output
// where F(2x2, 3x3) needs 4 and im2col 9; the transformed data is 36/16 values per 4 pixels against F(2x2)'s 16/4.
// The price is accuracy: 3e-6 to 7e-6 of the largest output in float against F(2x2)'s 1e-7 to 4e-7 (well inside the
// 1e-4 of the PyTorch parity tests), so the CPU policy uses it only where it measured faster (large maps).
//   U[xi][co][ci] = (G w G^T)[xi]      G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
//                                             1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   V[xi][ci][p]  = (B^T d B)[xi]      B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
//                                             0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   y block       = A^T (U V) A        A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// The weight gradient is the adjoint: dw = sum over tiles of G^T [(A dy A^T) .* (B^T d B)] G, 36 GEMMs
// (co x tiles) by (tiles x ci).
// xi = 6 * row + column of the 6x6 transformed tile; tiles run over tile rows, then tile columns. Same interface as
// winograd::F2x2.
#include <algorithm>
#include <cstddef>

#include "winograd.hpp"

namespace unetflow::winograd {

struct F4x4 {
  static constexpr int points = 36, classes = 1;

  // Tiles of one h x w map (the last row/column of tiles is cut when h or w is not a multiple of 4).
  static int tiles(int h, int w) { return ((h + 3) / 4) * ((w + 3) / 4); }

  // G applied to three values (a column or a row of the 3x3 kernel).
  template <class T>
  static void g3(T a, T b, T c, T* o) {
    o[0] = a / T(4);
    o[1] = -(a + b + c) / T(6);
    o[2] = -(a - b + c) / T(6);
    o[3] = a / T(24) + b / T(12) + c / T(6);
    o[4] = a / T(24) - b / T(12) + c / T(6);
    o[5] = c;
  }
  // u[36][co][ci] from w[co][ci][3][3].
  template <class T>
  static void transform_weights(const T* w, int co, int ci, T* u) {
    const std::ptrdiff_t plane = std::ptrdiff_t(co) * ci, stride = point_stride(co, ci);
#pragma omp parallel for schedule(static) if (plane >= 4096)  // recomputed at every forward
    for (std::ptrdiff_t oc = 0; oc < plane; ++oc) {
      const T* g = w + oc * 9;
      T col[3][6];  // G g, column by column
      for (int j = 0; j < 3; ++j) g3(g[j], g[3 + j], g[6 + j], col[j]);
      for (int i = 0; i < 6; ++i) {
        T r[6];
        g3(col[0][i], col[1][i], col[2][i], r);
        for (int j = 0; j < 6; ++j) u[(6 * i + j) * stride + oc] = r[j];
      }
    }
  }

  // B^T applied to six values.
  template <class T>
  static void bt6(T d0, T d1, T d2, T d3, T d4, T d5, T& o0, T& o1, T& o2, T& o3, T& o4, T& o5) {
    o0 = T(4) * d0 - T(5) * d2 + d4;
    o1 = d3 + d4 - T(4) * (d1 + d2);
    o2 = d4 - d3 + T(4) * (d1 - d2);
    o3 = d4 - d2 + T(2) * (d3 - d1);
    o4 = d4 - d2 + T(2) * (d1 - d3);
    o5 = T(4) * d1 - T(5) * d3 + d5;
  }
  // v[36][ci][ld] (ld >= tiles(h, w)) from one sample x[ci][h][w], as F2x2::transform_input: each channel goes
  // into the interior of a zero-bordered plane, each row of tiles is transformed along y for the whole row at once
  // (six rows of B^T d, vectorised), then along x tile by tile. `scratch` holds input_scratch(h, w) values.
  template <class T>
  static void transform_input(const T* x, int ci, int h, int w, T* v, std::ptrdiff_t ld, T* scratch) {
    const int th = (h + 3) / 4, tw = (w + 3) / 4, pw = 4 * tw + 2, ph = 4 * th + 2;
    const std::ptrdiff_t xi_stride = point_stride(ci, ld);
    T* padded = scratch;
    T* rows = scratch + std::ptrdiff_t(ph) * pw;  // B^T d for one row of tiles: 6 rows of pw
    std::fill(padded, padded + std::ptrdiff_t(ph) * pw, T(0));
    for (int c = 0; c < ci; ++c) {
      const T* plane = x + std::ptrdiff_t(c) * h * w;
      for (int r = 0; r < h; ++r) copy_row(plane + r * w, w, padded + (r + 1) * pw + 1);
      T* out = v + std::ptrdiff_t(c) * ld;
      for (int ty = 0; ty < th; ++ty) {
        const T* d = padded + std::ptrdiff_t(4 * ty) * pw;
        T *t0 = rows, *t1 = t0 + pw, *t2 = t1 + pw, *t3 = t2 + pw, *t4 = t3 + pw, *t5 = t4 + pw;
#pragma omp simd
        for (int k = 0; k < pw; ++k)
          bt6(d[k], d[pw + k], d[2 * pw + k], d[3 * pw + k], d[4 * pw + k], d[5 * pw + k], t0[k], t1[k], t2[k], t3[k],
              t4[k], t5[k]);
        T* o = out + std::ptrdiff_t(ty) * tw;
        for (int i = 0; i < 6; ++i) {
          const T* t = rows + i * pw;
          T* o0 = o + (6 * i) * xi_stride;
          T *o1 = o0 + xi_stride, *o2 = o1 + xi_stride, *o3 = o2 + xi_stride, *o4 = o3 + xi_stride,
            *o5 = o4 + xi_stride;
          for (int tx = 0; tx < tw; ++tx) {
            const T* e = t + 4 * tx;
            bt6(e[0], e[1], e[2], e[3], e[4], e[5], o0[tx], o1[tx], o2[tx], o3[tx], o4[tx], o5[tx]);
          }
        }
      }
    }
  }
  static std::ptrdiff_t input_scratch(int h, int w) {
    const std::ptrdiff_t pw = 4 * ((w + 3) / 4) + 2, ph = 4 * ((h + 3) / 4) + 2;
    return (ph + 6) * pw;
  }

  // One sample y[co][h][w] (+)= A^T M A from m[36][co][ld]; `scratch` holds output_scratch(h, w) values
  // (A^T M for one row of tiles).
  template <class T>
  static void transform_output(const T* m, int co, std::ptrdiff_t ld, T* y, int h, int w, bool accumulate, T* scratch) {
    const int th = (h + 3) / 4, tw = (w + 3) / 4;
    const std::ptrdiff_t xs = point_stride(co, ld);
    for (int c = 0; c < co; ++c) {
      const T* in = m + std::ptrdiff_t(c) * ld;
      T* plane = y + std::ptrdiff_t(c) * h * w;
      for (int ty = 0; ty < th; ++ty) {
        const T* s = in + std::ptrdiff_t(ty) * tw;
        for (int j = 0; j < 6; ++j) {  // A^T M along y, column j of every tile in the row
          const T* s0 = s + j * xs;
          const T *s1 = s0 + 6 * xs, *s2 = s1 + 6 * xs, *s3 = s2 + 6 * xs, *s4 = s3 + 6 * xs, *s5 = s4 + 6 * xs;
          T *a0 = scratch + j * tw, *a1 = a0 + 6 * tw, *a2 = a1 + 6 * tw, *a3 = a2 + 6 * tw;
#pragma omp simd  // without it the loop stayed scalar (possible aliasing): 43 % of the output transform
          for (int tx = 0; tx < tw; ++tx) {
            const T p1 = s1[tx] + s2[tx], m1 = s1[tx] - s2[tx], p2 = s3[tx] + s4[tx], m2 = s3[tx] - s4[tx];
            a0[tx] = s0[tx] + p1 + p2;
            a1[tx] = m1 + T(2) * m2;
            a2[tx] = p1 + T(4) * p2;
            a3[tx] = m1 + T(8) * m2 + s5[tx];
          }
        }
        for (int i = 0; i < 4; ++i) {  // along x, into output row 4 ty + i
          const int oy = 4 * ty + i;
          if (oy >= h) break;
          const T* a = scratch + 6 * i * tw;
          T* row = plane + oy * w;
          for (int tx = 0; tx < tw; ++tx) {
            const T q0 = a[tx], q1 = a[tw + tx], q2 = a[2 * tw + tx], q3 = a[3 * tw + tx], q4 = a[4 * tw + tx],
                    q5 = a[5 * tw + tx];
            const T p1 = q1 + q2, m1 = q1 - q2, p2 = q3 + q4, m2 = q3 - q4;
            const T r[4] = {q0 + p1 + p2, m1 + T(2) * m2, p1 + T(4) * p2, m1 + T(8) * m2 + q5};
            const int ox = 4 * tx;
            for (int k = 0; k < 4 && ox + k < w; ++k) row[ox + k] = accumulate ? row[ox + k] + r[k] : r[k];
          }
        }
      }
    }
  }
  static std::ptrdiff_t output_scratch(int, int w) { return 24 * std::ptrdiff_t((w + 3) / 4); }

  // A applied to four values (a column or a row of a 4x4 block of the output gradient).
  template <class T>
  static void a4(T g0, T g1, T g2, T g3, T& o0, T& o1, T& o2, T& o3, T& o4, T& o5) {
    const T even = g0 + g2, odd = g1 + g3, even4 = g0 + T(4) * g2, odd2 = T(2) * g1 + T(8) * g3;
    o0 = g0;
    o1 = even + odd;
    o2 = even - odd;
    o3 = even4 + odd2;
    o4 = even4 - odd2;
    o5 = g3;
  }
  // e[36][co][ld] from one sample's output gradient dy[co][h][w]: A g A^T of every 4x4 block (zero outside the
  // map), the adjoint of the output transform. Along y for a row of tiles at once (vectorised), then along x.
  // `scratch` holds gradient_scratch(h, w) values.
  template <class T>
  static void transform_gradient(const T* dy, int co, int h, int w, T* e, std::ptrdiff_t ld, T* scratch) {
    const int th = (h + 3) / 4, tw = (w + 3) / 4, pw = 4 * tw;
    const std::ptrdiff_t xi_stride = point_stride(co, ld);
    T* padded = scratch;                              // the plane, zero-extended to 4 th x 4 tw
    T* rows = scratch + std::ptrdiff_t(4 * th) * pw;  // A g for one row of tiles: 6 rows of pw
    std::fill(padded, padded + std::ptrdiff_t(4 * th) * pw, T(0));
    for (int c = 0; c < co; ++c) {
      const T* plane = dy + std::ptrdiff_t(c) * h * w;
      for (int r = 0; r < h; ++r) copy_row(plane + r * w, w, padded + std::ptrdiff_t(r) * pw);
      T* out = e + std::ptrdiff_t(c) * ld;
      for (int ty = 0; ty < th; ++ty) {
        const T* g = padded + std::ptrdiff_t(4 * ty) * pw;
        T *t0 = rows, *t1 = t0 + pw, *t2 = t1 + pw, *t3 = t2 + pw, *t4 = t3 + pw, *t5 = t4 + pw;
#pragma omp simd
        for (int k = 0; k < pw; ++k)
          a4(g[k], g[pw + k], g[2 * pw + k], g[3 * pw + k], t0[k], t1[k], t2[k], t3[k], t4[k], t5[k]);
        T* o = out + std::ptrdiff_t(ty) * tw;
        for (int i = 0; i < 6; ++i) {
          const T* t = rows + i * pw;
          T* o0 = o + (6 * i) * xi_stride;
          T *o1 = o0 + xi_stride, *o2 = o1 + xi_stride, *o3 = o2 + xi_stride, *o4 = o3 + xi_stride,
            *o5 = o4 + xi_stride;
          for (int tx = 0; tx < tw; ++tx) {
            const T* q = t + 4 * tx;
            a4(q[0], q[1], q[2], q[3], o0[tx], o1[tx], o2[tx], o3[tx], o4[tx], o5[tx]);
          }
        }
      }
    }
  }
  static std::ptrdiff_t gradient_scratch(int h, int w) {
    const std::ptrdiff_t pw = 4 * ((w + 3) / 4);
    return (4 * ((h + 3) / 4) + 6) * pw;
  }

  // G^T applied to six values.
  template <class T>
  static void gt6(T m0, T m1, T m2, T m3, T m4, T m5, T& r0, T& r1, T& r2) {
    const T p1 = m1 + m2, d1 = m2 - m1, p2 = m3 + m4, d2 = m3 - m4;
    r0 = m0 / T(4) - p1 / T(6) + p2 / T(24);
    r1 = d1 / T(6) + d2 / T(12);
    r2 = (p2 - p1) / T(6) + m5;
  }
  // dw[co][ci][3][3] += G^T M G for m[36][co][ci], points point_stride(co, ci) apart (the weight transform's
  // adjoint).
  template <class T>
  static void transform_weight_gradient(const T* m, int co, int ci, T* dw) {
    const std::ptrdiff_t plane = std::ptrdiff_t(co) * ci, stride = point_stride(co, ci);
    for (std::ptrdiff_t oc = 0; oc < plane; ++oc) {
      T r[3][6];  // G^T M, column by column
      for (int j = 0; j < 6; ++j) {
        const T* col = m + j * stride + oc;
        gt6(col[0], col[6 * stride], col[12 * stride], col[18 * stride], col[24 * stride], col[30 * stride], r[0][j],
            r[1][j], r[2][j]);
      }
      T* out = dw + oc * 9;
      for (int k = 0; k < 3; ++k) {
        T a, b, c;
        gt6(r[k][0], r[k][1], r[k][2], r[k][3], r[k][4], r[k][5], a, b, c);
        out[3 * k] += a;
        out[3 * k + 1] += b;
        out[3 * k + 2] += c;
      }
    }
  }
};

}  // namespace unetflow::winograd
