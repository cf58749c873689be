#pragma once
// Winograd F(2x2, 3x3) (Lavin & Gray, 2016) for 3x3 stride-1 'same' convolutions: each 2x2 output block comes
// from a 4x4 input tile through 16 element-wise products in a transformed space, so a convolution becomes 16 GEMMs
// of (co x ci) by (ci x tiles) instead of one of (co x 9 ci) by (9 ci x pixels): 2.25x fewer multiplications,
// and the input transform writes 4 values per input pixel where im2col writes 9.
//   U[xi][co][ci] = (G w G^T)[xi]          weights,   G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]
//   V[xi][ci][p]  = (B^T d B)[xi]          tile p,    B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   M[xi]         = U[xi] V[xi]            (the GEMMs)
//   y block       = A^T M A                A^T = [1 1 1 0; 0 1 -1 -1]
// The weight gradient is the adjoint: dw = sum over tiles of G^T [(A dy A^T) .* (B^T d B)] G, i.e. 16 GEMMs
// (co x tiles) by (tiles x ci) between the transformed output gradients and the transformed inputs.
// xi = 4 * row + column of the 4x4 transformed tile. Tiles run over tile rows, then tile columns.
#include <algorithm>
#include <cstddef>

namespace unetflow::winograd {

// Copies one short row (a map's row into a padded plane). Inline on purpose: std::copy becomes a memmove call,
// whose cost is noticeable per 7-28 floats (4% of a sampling run's profile).
template <class T>
inline void copy_row(const T* src, int n, T* dst) {
  for (int k = 0; k < n; ++k) dst[k] = src[k];
}

// Distance between consecutive transformed points' matrices of rows x ld values. Rounded up to a whole 4 KB and
// one cache line more: with a multiple of 4 KB, the 16-36 streams a transform reads or writes all fall into the same
// L1 set (a 256 -> 64-channel weight transform took 7 ms instead of <1).
inline std::ptrdiff_t point_stride(std::ptrdiff_t rows, std::ptrdiff_t ld) {
  return (rows * ld + 1023) / 1024 * 1024 + 16;
}

struct F2x2 {
  static constexpr int points = 16;  // values per transformed tile
  static constexpr int classes = 1;  // rows of M per output channel

  // Tiles of one h x w map (the last row/column of tiles is cut when h or w is odd).
  static int tiles(int h, int w) { return ((h + 1) / 2) * ((w + 1) / 2); }

  // u[16][co][ci] from w[co][ci][3][3].
  template <class T>
  static void transform_weights(const T* w, int co, int ci, T* u) {
    const std::ptrdiff_t plane = std::ptrdiff_t(co) * ci, stride = point_stride(co, ci);
#pragma omp parallel for schedule(static) if (plane >= 4096)  // recomputed at every forward
    for (std::ptrdiff_t oc = 0; oc < plane; ++oc) {
      const T* g = w + oc * 9;
      T gg[4][3];
      for (int j = 0; j < 3; ++j) {
        gg[0][j] = g[j];
        gg[1][j] = T(0.5) * (g[j] + g[3 + j] + g[6 + j]);
        gg[2][j] = T(0.5) * (g[j] - g[3 + j] + g[6 + j]);
        gg[3][j] = g[6 + j];
      }
      for (int i = 0; i < 4; ++i) {
        const T r[4] = {gg[i][0], T(0.5) * (gg[i][0] + gg[i][1] + gg[i][2]), T(0.5) * (gg[i][0] - gg[i][1] + gg[i][2]),
                        gg[i][2]};
        for (int j = 0; j < 4; ++j) u[(4 * i + j) * stride + oc] = r[j];
      }
    }
  }

  // v[16][ci][ld] (ld >= tiles(h, w)) from one sample x[ci][h][w]. `scratch` holds
  // (h + 3) * (w + 3) + 4 * (w + 3) values: each channel is copied into the interior of a zero-bordered plane (the
  // border is written once), so tiles need no bounds tests; then each row of tiles is transformed along y for the
  // whole row at once (B^T d, four rows of w + 3 values, vectorisable) and along x into the 16 outputs.
  template <class T>
  static void transform_input(const T* x, int ci, int h, int w, T* v, std::ptrdiff_t ld, T* scratch) {
    const int th = (h + 1) / 2, tw = (w + 1) / 2, pw = 2 * tw + 2, ph = 2 * th + 2;
    const std::ptrdiff_t xi_stride = point_stride(ci, ld);
    T* padded = scratch;
    T* rows = scratch + std::ptrdiff_t(ph) * pw;  // B^T d for one row of tiles: 4 rows of pw
    std::fill(padded, padded + std::ptrdiff_t(ph) * pw, T(0));
    for (int c = 0; c < ci; ++c) {
      const T* plane = x + std::ptrdiff_t(c) * h * w;
      for (int r = 0; r < h; ++r) copy_row(plane + r * w, w, padded + (r + 1) * pw + 1);
      T* out = v + std::ptrdiff_t(c) * ld;
      for (int ty = 0; ty < th; ++ty) {
        const T* r0 = padded + (2 * ty) * pw;
        const T *r1 = r0 + pw, *r2 = r1 + pw, *r3 = r2 + pw;
        T *t0 = rows, *t1 = rows + pw, *t2 = rows + 2 * pw, *t3 = rows + 3 * pw;
        for (int k = 0; k < pw; ++k) {
          t0[k] = r0[k] - r2[k];
          t1[k] = r1[k] + r2[k];
          t2[k] = r2[k] - r1[k];
          t3[k] = r1[k] - r3[k];
        }
        T* o = out + ty * tw;
        for (int i = 0; i < 4; ++i) {
          const T* t = rows + i * pw;
          T *o0 = o + (4 * i) * xi_stride, *o1 = o0 + xi_stride, *o2 = o1 + xi_stride, *o3 = o2 + xi_stride;
#pragma omp simd
          for (int tx = 0; tx < tw; ++tx) {
            const T a = t[2 * tx], b = t[2 * tx + 1], d = t[2 * tx + 2], e = t[2 * tx + 3];
            o0[tx] = a - d;
            o1[tx] = b + d;
            o2[tx] = d - b;
            o3[tx] = b - e;
          }
        }
      }
    }
  }
  static std::ptrdiff_t input_scratch(int h, int w) {
    return std::ptrdiff_t(h + 3) * (w + 3) + 4 * std::ptrdiff_t(w + 3);
  }

  // One sample y[co][h][w] (+)= A^T M A from m[16][co][ld]; `scratch` holds
  // 8 * (w + 1) values (A^T M for one row of tiles).
  template <class T>
  static void transform_output(const T* m, int co, std::ptrdiff_t ld, T* y, int h, int w, bool accumulate, T* scratch) {
    const int th = (h + 1) / 2, tw = (w + 1) / 2;
    const std::ptrdiff_t xi_stride = point_stride(co, ld);
    for (int c = 0; c < co; ++c) {
      const T* in = m + std::ptrdiff_t(c) * ld;
      T* plane = y + std::ptrdiff_t(c) * h * w;
      for (int ty = 0; ty < th; ++ty) {
        const T* s = in + std::ptrdiff_t(ty) * tw;
        for (int j = 0; j < 4; ++j) {  // A^T M, column j of every tile in the row
          const T *s0 = s + j * xi_stride, *s1 = s0 + 4 * xi_stride, *s2 = s1 + 4 * xi_stride, *s3 = s2 + 4 * xi_stride;
          T *a0 = scratch + j * tw, *a1 = scratch + (4 + j) * tw;
#pragma omp simd  // not vectorised without it (possible aliasing)
          for (int tx = 0; tx < tw; ++tx) {
            a0[tx] = s0[tx] + s1[tx] + s2[tx];
            a1[tx] = s1[tx] - s2[tx] - s3[tx];
          }
        }
        for (int i = 0; i < 2; ++i) {
          const int oy = 2 * ty + i;
          if (oy >= h) break;
          const T* a = scratch + 4 * i * tw;
          T* row = plane + oy * w;
          for (int tx = 0; tx < tw; ++tx) {
            const T left = a[tx] + a[tw + tx] + a[2 * tw + tx], right = a[tw + tx] - a[2 * tw + tx] - a[3 * tw + tx];
            const int ox = 2 * tx;
            row[ox] = accumulate ? row[ox] + left : left;
            if (ox + 1 < w) row[ox + 1] = accumulate ? row[ox + 1] + right : right;
          }
        }
      }
    }
  }
  static std::ptrdiff_t output_scratch(int, int w) { return 8 * std::ptrdiff_t(w + 1); }

  // e[16][co][ld] from one sample's output gradient dy[co][h][w]: A dy A^T of
  // every 2x2 block (zero outside the map). `scratch` holds gradient_scratch(h, w) values.
  template <class T>
  static void transform_gradient(const T* dy, int co, int h, int w, T* e, std::ptrdiff_t ld, T* scratch) {
    const int th = (h + 1) / 2, tw = (w + 1) / 2, pw = 2 * tw;
    const std::ptrdiff_t xi_stride = point_stride(co, ld);
    T* padded = scratch;  // the plane, zero-extended to 2 th x 2 tw
    std::fill(padded, padded + std::ptrdiff_t(2 * th) * pw, T(0));
    for (int c = 0; c < co; ++c) {
      const T* plane = dy + std::ptrdiff_t(c) * h * w;
      for (int r = 0; r < h; ++r) copy_row(plane + r * w, w, padded + std::ptrdiff_t(r) * pw);
      T* out = e + std::ptrdiff_t(c) * ld;
      for (int ty = 0; ty < th; ++ty) {
        const T* g0 = padded + std::ptrdiff_t(2 * ty) * pw;
        const T* g1 = g0 + pw;
        T* o = out + std::ptrdiff_t(ty) * tw;
#pragma omp simd
        for (int t = 0; t < tw; ++t) {
          // Rows of A g: (g0), (g0 + g1), (g0 - g1), (-g1); then each row (p, q) becomes (p, p + q, p - q, -q).
          const T a = g0[2 * t], b = g0[2 * t + 1], c2 = g1[2 * t], d = g1[2 * t + 1];
          const T p[4] = {a, a + c2, a - c2, -c2}, q[4] = {b, b + d, b - d, -d};
          for (int i = 0; i < 4; ++i) {
            o[(4 * i) * xi_stride + t] = p[i];
            o[(4 * i + 1) * xi_stride + t] = p[i] + q[i];
            o[(4 * i + 2) * xi_stride + t] = p[i] - q[i];
            o[(4 * i + 3) * xi_stride + t] = -q[i];
          }
        }
      }
    }
  }
  static std::ptrdiff_t gradient_scratch(int h, int w) {
    return std::ptrdiff_t(2 * ((h + 1) / 2)) * (2 * ((w + 1) / 2));
  }

  // dw[co][ci][3][3] += G^T M G for m[16][co][ci], points point_stride(co, ci) apart (the weight transform's adjoint).
  template <class T>
  static void transform_weight_gradient(const T* m, int co, int ci, T* dw) {
    const std::ptrdiff_t plane = std::ptrdiff_t(co) * ci, stride = point_stride(co, ci);
    for (std::ptrdiff_t oc = 0; oc < plane; ++oc) {
      T r[3][4];  // G^T M
      for (int j = 0; j < 4; ++j) {
        const T m0 = m[j * stride + oc], m1 = m[(4 + j) * stride + oc], m2 = m[(8 + j) * stride + oc],
                m3 = m[(12 + j) * stride + oc];
        r[0][j] = m0 + T(0.5) * (m1 + m2);
        r[1][j] = T(0.5) * (m1 - m2);
        r[2][j] = T(0.5) * (m1 + m2) + m3;
      }
      T* out = dw + oc * 9;
      for (int k = 0; k < 3; ++k) {
        out[3 * k] += r[k][0] + T(0.5) * (r[k][1] + r[k][2]);
        out[3 * k + 1] += T(0.5) * (r[k][1] - r[k][2]);
        out[3 * k + 2] += T(0.5) * (r[k][1] + r[k][2]) + r[k][3];
      }
    }
  }
};

}  // namespace unetflow::winograd
