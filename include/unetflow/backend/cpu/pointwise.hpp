#pragma once
// The CPU policy's element-wise room: activations, row copies and sums, average pooling, modulation, dropout masks,
// embedding look-ups, the losses (MSE and the element-wise ones), flow interpolation.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "../../tensor.hpp"
#include "../common.hpp"
#include "../dropout_hash.hpp"
#include "../loss_math.hpp"
#include "activation_rows.hpp"

namespace unetflow::cpu_impl {

template <class T>
struct Pointwise {
  static void activation_forward(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len, Activation act);
  // In place: g holds dL/dy on entry and dL/dx on exit.
  static void activation_backward(Strided<const T> x, Strided<T> g, int n, std::ptrdiff_t len, Activation act);
  static void copy_rows(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len);
  static void add_rows(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len);

  // Average pooling with a k x k window and stride k (no padding).
  static void avgpool_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int k);
  static void avgpool_backward(Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w, int k, bool accumulate);

  // y = h * scale[c] (+ shift[c]): conditioning signals broadcast over the plane.
  static void modulate_forward(Strided<const T> h, Strided<const T> scale, Strided<const T> shift, Strided<T> y, int n,
                               int C, int plane);
  static void modulate_backward(Strided<const T> h, Strided<const T> scale, Strided<const T> dy, Strided<T> dh,
                                Strided<T> dscale, Strided<T> dshift, int n, int C, int plane);

  // Softmax of each contiguous row of len values, in place; and its backward (g = a (g - sum g a)), in place.
  static void softmax_rows(T* x, std::ptrdiff_t rows, std::ptrdiff_t len);
  static void softmax_backward_rows(const T* a, T* g, std::ptrdiff_t rows, std::ptrdiff_t len);
  // Log-softmax of each contiguous row (y may be x); and its backward (g = g - e^y sum g), in place.
  static void log_softmax_rows(const T* x, T* y, std::ptrdiff_t rows, std::ptrdiff_t len);
  static void log_softmax_backward_rows(const T* y, T* g, std::ptrdiff_t rows, std::ptrdiff_t len);

  // Mean squared error over all elements into *loss (backend memory); writes dL/dpred when grad is given.
  static void mse(Strided<const T> pred, Strided<const T> target, Strided<T> grad, int n, std::ptrdiff_t len,
                  double* loss);

  // mask[0, len) = kept ? 1 / (1 - p) : 0 (dropout_hash.hpp's keep test: the same mask on every backend).
  static void dropout_mask(T* mask, std::ptrdiff_t len, double p, std::uint64_t seed, std::uint64_t draw);
  // y[s] = weight row index[s] (index: n values, whole numbers below the row count, checked by the caller);
  // dweight row index[s] += dy[s].
  static void embedding_forward(const T* index, const T* weight, Strided<T> y, int n, int dim);
  static void embedding_backward(const T* index, Strided<const T> dy, T* dweight, int n, int dim, int rows);
  // *loss = scale * sum of the element losses (loss_math.hpp) over n x len values; grad = scale * their gradients
  // when grad.data is not null. scale is 1 / (n len) for reduction='mean', 1 for 'sum'.
  static void elementwise_loss(ElementLoss kind, Strided<const T> pred, Strided<const T> target, Strided<T> grad, int n,
                               std::ptrdiff_t len, double beta, double scale, double* loss);

  // Flow matching's pair: xt = (1 - t) x0 + t x1 and target = x1 - x0, one t per sample.
  static void interpolate(Strided<const T> x0, Strided<const T> x1, const T* t, Strided<T> xt, Strided<T> target, int n,
                          std::ptrdiff_t len);
};

template <class T>
void Pointwise<T>::softmax_rows(T* x, std::ptrdiff_t rows, std::ptrdiff_t len) {
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    T* row = x + r * len;
    const T top = *std::max_element(row, row + len);
    double sum = 0;
    for (std::ptrdiff_t i = 0; i < len; ++i) sum += (row[i] = std::exp(row[i] - top));
    const T inverse = T(1.0 / sum);
    for (std::ptrdiff_t i = 0; i < len; ++i) row[i] *= inverse;
  }
}

template <class T>
void Pointwise<T>::softmax_backward_rows(const T* a, T* g, std::ptrdiff_t rows, std::ptrdiff_t len) {
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* ar = a + r * len;
    T* gr = g + r * len;
    double dot = 0;
    for (std::ptrdiff_t i = 0; i < len; ++i) dot += double(gr[i]) * ar[i];
    for (std::ptrdiff_t i = 0; i < len; ++i) gr[i] = ar[i] * (gr[i] - T(dot));
  }
}

template <class T>
void Pointwise<T>::log_softmax_rows(const T* x, T* y, std::ptrdiff_t rows, std::ptrdiff_t len) {
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* in = x + r * len;
    T* out = y + r * len;
    const T top = *std::max_element(in, in + len);
    double sum = 0;
    for (std::ptrdiff_t i = 0; i < len; ++i) sum += std::exp(double(in[i] - top));
    const T shift = top + T(std::log(sum));
    for (std::ptrdiff_t i = 0; i < len; ++i) out[i] = in[i] - shift;
  }
}

template <class T>
void Pointwise<T>::log_softmax_backward_rows(const T* y, T* g, std::ptrdiff_t rows, std::ptrdiff_t len) {
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* yr = y + r * len;
    T* gr = g + r * len;
    double sum = 0;
    for (std::ptrdiff_t i = 0; i < len; ++i) sum += gr[i];
    for (std::ptrdiff_t i = 0; i < len; ++i) gr[i] -= T(std::exp(double(yr[i])) * sum);
  }
}

template <class T>
void Pointwise<T>::activation_forward(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len, Activation act) {
#pragma omp parallel for schedule(static)
  for (int s = 0; s < n; ++s) ActivationRows<T>::row(act, x[s], y[s], len);
}

template <class T>
void Pointwise<T>::activation_backward(Strided<const T> x, Strided<T> g, int n, std::ptrdiff_t len, Activation act) {
#pragma omp parallel for schedule(static)
  for (int s = 0; s < n; ++s) ActivationRows<T>::grad_row(act, x[s], g[s], len);
}

template <class T>
void Pointwise<T>::copy_rows(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len) {
#pragma omp parallel for schedule(static)
  for (int s = 0; s < n; ++s) std::copy(x[s], x[s] + len, y[s]);
}

template <class T>
void Pointwise<T>::add_rows(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len) {
#pragma omp parallel for schedule(static)
  for (int s = 0; s < n; ++s)
    for (std::ptrdiff_t i = 0; i < len; ++i) y[s][i] += x[s][i];
}

template <class T>
void Pointwise<T>::avgpool_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int k) {
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

template <class T>
void Pointwise<T>::avgpool_backward(Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w, int k,
                                    bool accumulate) {
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

template <class T>
void Pointwise<T>::modulate_forward(Strided<const T> h, Strided<const T> scale, Strided<const T> shift, Strided<T> y,
                                    int n, int C, int plane) {
  if (plane == 1) {  // element-wise (dropout's masks, LayerNorm's affine): one vectorised row per sample
#pragma omp parallel for schedule(static)
    for (int s = 0; s < n; ++s) {
      const T *in = h[s], *a = scale[s], *b = shift.data ? shift[s] : nullptr;
      T* out = y[s];
      if (b) {
#pragma omp simd
        for (int c = 0; c < C; ++c) out[c] = in[c] * a[c] + b[c];
      } else {
#pragma omp simd
        for (int c = 0; c < C; ++c) out[c] = in[c] * a[c];
      }
    }
    return;
  }
#pragma omp parallel for collapse(2) schedule(static)
  for (int s = 0; s < n; ++s)
    for (int c = 0; c < C; ++c) {
      const T a = scale[s][c], b = shift.data ? shift[s][c] : T(0);
      const T* in = h[s] + std::ptrdiff_t(c) * plane;
      T* out = y[s] + std::ptrdiff_t(c) * plane;
      for (int i = 0; i < plane; ++i) out[i] = in[i] * a + b;
    }
}

template <class T>
void Pointwise<T>::modulate_backward(Strided<const T> h, Strided<const T> scale, Strided<const T> dy, Strided<T> dh,
                                     Strided<T> dscale, Strided<T> dshift, int n, int C, int plane) {
  if (plane == 1) {  // element-wise: the sums over a plane are single products
#pragma omp parallel for schedule(static)
    for (int s = 0; s < n; ++s) {
      const T *in = h[s], *a = scale[s], *g = dy[s];
      T *out = dh[s], *ds = dscale[s], *db = dshift.data ? dshift[s] : nullptr;
      if (db) {  // (dh may be dy: each element is read before it is written)
#pragma omp simd
        for (int c = 0; c < C; ++c) {
          const T gc = g[c];
          db[c] = gc;
          ds[c] = gc * in[c];
          out[c] = gc * a[c];
        }
      } else {
#pragma omp simd
        for (int c = 0; c < C; ++c) {
          const T gc = g[c];
          ds[c] = gc * in[c];
          out[c] = gc * a[c];
        }
      }
    }
    return;
  }
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

template <class T>
void Pointwise<T>::mse(Strided<const T> pred, Strided<const T> target, Strided<T> grad, int n, std::ptrdiff_t len,
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

template <class T>
void Pointwise<T>::interpolate(Strided<const T> x0, Strided<const T> x1, const T* t, Strided<T> xt, Strided<T> target,
                               int n, std::ptrdiff_t len) {
#pragma omp parallel for schedule(static)
  for (int s = 0; s < n; ++s)
    for (std::ptrdiff_t i = 0; i < len; ++i) {
      xt[s][i] = (T(1) - t[s]) * x0[s][i] + t[s] * x1[s][i];
      target[s][i] = x1[s][i] - x0[s][i];
    }
}

template <class T>
void Pointwise<T>::dropout_mask(T* mask, std::ptrdiff_t len, double p, std::uint64_t seed, std::uint64_t draw) {
  const std::uint32_t threshold = dropout_hash::keep_threshold(p);
  const T kept = p < 1 ? T(1.0 / (1.0 - p)) : T(0);
#pragma omp parallel for schedule(static) if (len > 65536)
  for (std::ptrdiff_t i = 0; i < len; ++i)
    mask[i] = dropout_hash::keep(seed, draw, std::uint64_t(i), threshold) ? kept : T(0);
}

template <class T>
void Pointwise<T>::embedding_forward(const T* index, const T* weight, Strided<T> y, int n, int dim) {
#pragma omp parallel for schedule(static)
  for (int s = 0; s < n; ++s) std::copy_n(weight + std::ptrdiff_t(index[s]) * dim, dim, y[s]);
}

template <class T>
void Pointwise<T>::embedding_backward(const T* index, Strided<const T> dy, T* dweight, int n, int dim, int) {
  for (int s = 0; s < n; ++s) {  // in sample order: rows shared by several samples sum deterministically
    T* row = dweight + std::ptrdiff_t(index[s]) * dim;
    for (int i = 0; i < dim; ++i) row[i] += dy[s][i];
  }
}

template <class T>
void Pointwise<T>::elementwise_loss(ElementLoss kind, Strided<const T> pred, Strided<const T> target, Strided<T> grad,
                                    int n, std::ptrdiff_t len, double beta, double scale, double* loss) {
  double total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
  for (int s = 0; s < n; ++s) {
    double acc = 0;
    for (std::ptrdiff_t i = 0; i < len; ++i) {
      const auto v = loss_math::element(kind, double(pred[s][i]), double(target[s][i]), beta);
      acc += v.loss;
      if (grad.data) grad[s][i] = T(scale * v.grad);
    }
    total += acc;
  }
  *loss = total * scale;
}

}  // namespace unetflow::cpu_impl
