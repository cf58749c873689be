#pragma once
// The CPU policy's per-channel room: bias, bias gradient, and batch normalisation (statistics, apply, backward).
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "../../tensor.hpp"
#include "../common.hpp"
#include "activation_rows.hpp"

namespace unetflow::cpu_impl {

template <class T>
struct Normalisation {
  // ---- per-channel bias ---------------------------------------------------------------------------------
  static void add_channel_bias(Strided<T> y, int n, int C, int plane, const T* b);
  static void channel_sums(Strided<const T> y, int n, int C, int plane, T* out_accumulate);

  // ---- batch normalisation ------------------------------------------------------------------------------
  // Batch mean and biased variance per channel (two passes, double accumulators).
  static void bn_stats(Strided<const T> x, int n, int C, int plane, T* mean, T* var);
  // Turns the batch variance into invstd and moves the running statistics (training), or takes the running
  // statistics as they are (evaluation). `count` is the number of values per channel in the batch.
  static void bn_prepare(T* mean, T* var_invstd, T* running_mean, T* running_var, int C, double count, double momentum,
                         double eps, bool training);
  // y = act((x - mean) * invstd * gamma + beta): BatchNorm2d and its activation in one pass.
  static void bn_apply(Strided<const T> x, Strided<T> y, int n, int C, int plane, const T* mean, const T* invstd,
                       const T* gamma, const T* beta, Activation act = Activation::none);
  // bn_apply for one sample, on the calling thread (a convolution's epilogue).
  static void bn_apply_sample(const T* x, T* y, int C, int plane, const T* mean, const T* invstd, const T* gamma,
                              const T* beta, Activation act);
  static void bn_apply_plane(const T* x, T* y, int c, int plane, const T* mean, const T* invstd, const T* gamma,
                             const T* beta, Activation act);
  // In place: g holds dL/dy on entry and dL/dx on exit, y = act(BN(x)) as in bn_apply; the activation's input is
  // recomputed from x. batch_stats: the statistics depended on x (training).
  // Rounding that is the same for every element of a channel comes back N-fold in sums over the batch (the
  // gradient of a bias before training-mode BatchNorm, zero in exact arithmetic, came out at 2e-5 where PyTorch's
  // own noise is 7e-5 and the parity tolerance 9e-5). So the sums are double, x - mean is centred on the mean of its
  // own float values (`centre`: mean is the batch mean rounded to float), and the result is formed in double.
  static void bn_backward(Strided<const T> x, Strided<T> g, int n, int C, int plane, const T* mean, const T* invstd,
                          const T* gamma, const T* beta, T* dgamma, T* dbeta, bool batch_stats,
                          Activation act = Activation::none);
};

template <class T>
void Normalisation<T>::bn_apply(Strided<const T> x, Strided<T> y, int n, int C, int plane, const T* mean,
                                const T* invstd, const T* gamma, const T* beta, Activation act) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int s = 0; s < n; ++s)
    for (int c = 0; c < C; ++c) bn_apply_plane(x[s], y[s], c, plane, mean, invstd, gamma, beta, act);
}

template <class T>
void Normalisation<T>::bn_apply_sample(const T* x, T* y, int C, int plane, const T* mean, const T* invstd,
                                       const T* gamma, const T* beta, Activation act) {
  for (int c = 0; c < C; ++c) bn_apply_plane(x, y, c, plane, mean, invstd, gamma, beta, act);
}

template <class T>
void Normalisation<T>::add_channel_bias(Strided<T> y, int n, int C, int plane, const T* b) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int s = 0; s < n; ++s)
    for (int c = 0; c < C; ++c) {
      T* p = y[s] + std::ptrdiff_t(c) * plane;
      for (int i = 0; i < plane; ++i) p[i] += b[c];
    }
}

template <class T>
void Normalisation<T>::channel_sums(Strided<const T> y, int n, int C, int plane, T* out_accumulate) {
  if (plane == 1) {  // vectors (a Linear's bias, LayerNorm's affine): blocks of channels, samples in order
    constexpr int block = 256;
#pragma omp parallel for schedule(static)
    for (int c0 = 0; c0 < C; c0 += block) {
      const int width = std::min(block, C - c0);
      double acc[block] = {};
      for (int s = 0; s < n; ++s) {
        const T* p = y[s] + c0;
#pragma omp simd
        for (int c = 0; c < width; ++c) acc[c] += double(p[c]);
      }
      for (int c = 0; c < width; ++c) out_accumulate[c0 + c] += T(acc[c]);
    }
    return;
  }
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

template <class T>
void Normalisation<T>::bn_stats(Strided<const T> x, int n, int C, int plane, T* mean, T* var) {
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

template <class T>
void Normalisation<T>::bn_prepare(T* mean, T* var_invstd, T* running_mean, T* running_var, int C, double count,
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

template <class T>
void Normalisation<T>::bn_apply_plane(const T* x, T* y, int c, int plane, const T* mean, const T* invstd,
                                      const T* gamma, const T* beta, Activation act) {
  const T scale = invstd[c] * gamma[c], shift = beta[c] - mean[c] * scale;
  const T* in = x + std::ptrdiff_t(c) * plane;
  T* out = y + std::ptrdiff_t(c) * plane;
  ActivationRows<T>::row(act, in, out, plane, scale, shift);
}

template <class T>
void Normalisation<T>::bn_backward(Strided<const T> x, Strided<T> g, int n, int C, int plane, const T* mean,
                                   const T* invstd, const T* gamma, const T* beta, T* dgamma, T* dbeta,
                                   bool batch_stats, Activation act) {
  const double count = double(n) * plane;
#pragma omp parallel for schedule(static)
  for (int c = 0; c < C; ++c) {
    double sum_g = 0, sum_gx = 0, sum_x = 0;
    const T m = mean[c], is = invstd[c], scale = is * gamma[c], shift = beta[c] - m * scale;
    for (int s = 0; s < n; ++s) {
      const T* xp = x[s] + std::ptrdiff_t(c) * plane;
      T* gp = g[s] + std::ptrdiff_t(c) * plane;
      ActivationRows<T>::grad_row(act, xp, gp, plane, scale, shift);
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
    sum_gx = (sum_gx - centre * sum_g) * is;                  // sum of g * xhat
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
      for (int i = 0; i < plane; ++i) gp[i] = T(k * (double(gp[i]) - mg) - ks * (double(xp[i] - m) - centre) * mgx);
    }
  }
}

}  // namespace unetflow::cpu_impl
