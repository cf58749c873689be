#pragma once
// The backend contract, first part (backend.hpp states the conventions and the Backend concept): identity, memory,
// GEMM, convolution, per-channel bias and batch normalisation.
#include <concepts>
#include <cstddef>
#include <cstdint>

#include "../tensor.hpp"
#include "common.hpp"

namespace unetflow::contract {

template <class B>
using T = typename B::scalar;

// ---- identity ---------------------------------------------------------------------------------------------
// scalar: the element type (float; double for gradient checks). name: "cpu", "cuda" (summaries, progress).
// host_accessible: B's memory is the host's (no transfers needed). threads(): workers of its parallel loops
// (1 on a device). conv_epilogues: conv_forward and conv_backward_data call their SampleEpilogue per sample;
// false: they are never given one.
template <class B>
concept has_scalar = requires {
  typename B::scalar;
};
template <class B>
concept has_name = requires {
  { B::name } -> std::convertible_to<const char*>;
};
template <class B>
concept has_host_accessible = requires {
  { B::host_accessible } -> std::convertible_to<bool>;
};
template <class B>
concept has_threads = requires {
  { B::threads() } -> std::convertible_to<int>;
};
template <class B>
concept has_conv_epilogues = requires {
  { B::conv_epilogues } -> std::convertible_to<bool>;
};

// ---- memory -----------------------------------------------------------------------------------------------
// allocate<U>(n): room for n values (n >= 0, contents undefined), aligned for any vector load; throws when out of
// memory. deallocate<U>(p): frees it; p may be null.
template <class B>
concept has_allocate = requires(std::ptrdiff_t n, T<B>* p) {
  { B::template allocate<T<B>>(n) } -> std::same_as<T<B>*>;
  B::template deallocate<T<B>>(p);
};
// fill(p, n, v): p[0, n) = v. copy(src, dst, n): dst[0, n) = src[0, n), no overlap.
template <class B>
concept has_fill = requires(T<B>* p, std::ptrdiff_t n, T<B> v) {
  B::fill(p, n, v);
};
template <class B>
concept has_copy = requires(const T<B>* s, T<B>* d, std::ptrdiff_t n) {
  B::copy(s, d, n);
};
// to_host(src, dst, n): dst on the host, valid on return. from_host(src, dst, n): src on the host, reusable on
// return. read(p): one double (a loss) from backend memory. synchronize(): waits for everything issued so far.
template <class B>
concept has_to_host = requires(const T<B>* s, T<B>* d, std::ptrdiff_t n) {
  B::to_host(s, d, n);
};
template <class B>
concept has_from_host = requires(const T<B>* s, T<B>* d, std::ptrdiff_t n) {
  B::from_host(s, d, n);
};
template <class B>
concept has_read = requires(const double* p) {
  { B::read(p) } -> std::convertible_to<double>;
};
template <class B>
concept has_synchronize = requires {
  B::synchronize();
};
// scratch(use, slot, n): a buffer of at least n values for (use, slot), reused until a larger request for the
// same pair, contents undefined. The slot is the OpenMP thread on the CPU (callable inside a parallel region),
// 0 on a device. activation_scratch(depth, n): the buffer for block outputs that backward recomputes instead of
// keeping, one per chain nesting depth (blocks/chain.hpp).
template <class B>
concept has_scratch = requires(int slot, std::ptrdiff_t n) {
  { B::scratch(B::Use::columns, slot, n) } -> std::same_as<T<B>*>;
};
template <class B>
concept has_activation_scratch = requires(int depth, std::ptrdiff_t n) {
  { B::activation_scratch(depth, n) } -> std::same_as<T<B>*>;
};
// Graph: g.run(key, f[, snapshot]) runs f, or replays a recording of it when key (input addresses, batch size)
// and every allocation are unchanged; it returns how many times f's host code ran: 0 (replayed: the caller redoes
// its host effects), 1, or 2 when a recording failed and f then ran eagerly. snapshot() returns an undo of f's host
// effects, called between those two runs (see backend/recorded_step.hpp); a backend that never records ignores it.
struct NoStep {
  void operator()() const {}
};
struct NoSnapshot {
  NoStep operator()() const { return {}; }
};
template <class B>
concept has_graph = requires(typename B::Graph g, StepKey key) {
  { g.run(key, NoStep{}) } -> std::convertible_to<int>;
  { g.run(key, NoStep{}, NoSnapshot{}) } -> std::convertible_to<int>;
};

// ---- GEMM -------------------------------------------------------------------------------------------------
// gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc): C = alpha op(A) op(B) + beta C, row-major, op(X)
// = X or X^T; op(A) is M x K, op(B) K x N; ld* are row pitches as stored. beta = 0 ignores C (even NaN).
template <class B>
concept has_gemm = requires(bool t, int m, T<B> s, const T<B>* a, T<B>* c) {
  B::gemm(t, t, m, m, m, s, a, m, a, m, s, c, m);
};

// ---- convolution (PyTorch's Conv2d semantics, weights w[co][ci][k][k], geometry g, n samples, no bias) -------
// conv_forward(x, w, y, n, g, acc[, done]): y[s] (+)= w * x[s].
// conv_backward_data(dy, w, dx, n, g, acc[, done]): dx[s] (+)= w^T * dy[s] (also a transposed convolution's
//   forward, with g the geometry of the convolution it transposes).
// done(s) (conv_epilogues only) runs once y[s] (dx[s]) is final, on the thread that wrote it.
// conv_backward_weight(x, dy, dw, n, g): dw += sum_s dy[s] * x[s]^T.
template <class B>
concept has_conv_forward = requires(Strided<const T<B>> x, const T<B>* w, Strided<T<B>> y, const ConvGeom& g,
                                    SampleEpilogue done) {
  B::conv_forward(x, w, y, 1, g, false);
  B::conv_forward(x, w, y, 1, g, false, done);
};
template <class B>
concept has_conv_backward_data = requires(Strided<const T<B>> x, const T<B>* w, Strided<T<B>> y, const ConvGeom& g,
                                          SampleEpilogue done) {
  B::conv_backward_data(x, w, y, 1, g, false);
  B::conv_backward_data(x, w, y, 1, g, false, done);
};
template <class B>
concept has_conv_backward_weight = requires(Strided<const T<B>> x, T<B>* dw, const ConvGeom& g) {
  B::conv_backward_weight(x, x, dw, 1, g);
};

// ---- per-channel bias and batch normalisation (rows of C planes of plane values) ---------------------------
// add_channel_bias(y, n, C, plane, b): y[s][c][i] += b[c].
// channel_sums(dy, n, C, plane, db): db[c] += sum over s and i of dy[s][c][i].
template <class B>
concept has_add_channel_bias = requires(Strided<T<B>> y, const T<B>* b) {
  B::add_channel_bias(y, 1, 1, 1, b);
};
template <class B>
concept has_channel_sums = requires(Strided<const T<B>> y, T<B>* d) {
  B::channel_sums(y, 1, 1, 1, d);
};
// bn_stats(x, n, C, plane, mean, var): each channel's batch mean and biased variance.
template <class B>
concept has_bn_stats = requires(Strided<const T<B>> x, T<B>* p) {
  B::bn_stats(x, 1, 1, 1, p, p);
};
// bn_prepare(mean, var, rmean, rvar, C, count, momentum, eps, training): training moves the running statistics
// (unbiased variance of count values) and turns var into invstd = 1/sqrt(var + eps); evaluation sets mean = rmean
// and invstd from rvar. Host-side arguments only in the scalars; all pointers hold C values in backend memory.
template <class B>
concept has_bn_prepare = requires(T<B>* p, double d) {
  B::bn_prepare(p, p, p, p, 1, d, d, d, true);
};
// bn_apply(x, y, n, C, plane, mean, invstd, gamma, beta, act): y = act((x - mean) invstd gamma + beta); y may be x.
template <class B>
concept has_bn_apply = requires(Strided<const T<B>> x, Strided<T<B>> y, const T<B>* c, Activation act) {
  B::bn_apply(x, y, 1, 1, 1, c, c, c, c, act);
};
// bn_apply_sample(x, y, C, plane, mean, invstd, gamma, beta, act): bn_apply for one sample on the calling thread;
// required only with conv_epilogues (it is what the epilogue runs).
template <class B>
concept has_bn_apply_sample = !B::conv_epilogues || requires(const T<B>* c, T<B>* p, Activation act) {
  B::bn_apply_sample(c, p, 1, 1, c, c, c, c, act);
};
// bn_backward(x, g, n, C, plane, mean, invstd, gamma, beta, dgamma, dbeta, batch_stats, act): in place, g holds
// dL/dy on entry and dL/dx on exit (act's input is recomputed from x); dgamma, dbeta +=. batch_stats: mean and
// invstd were the batch's (training), so their dependence on x is part of dL/dx.
template <class B>
concept has_bn_backward = requires(Strided<const T<B>> x, Strided<T<B>> g, const T<B>* c, T<B>* p, Activation act) {
  B::bn_backward(x, g, 1, 1, 1, c, c, c, c, p, p, true, act);
};

}  // namespace unetflow::contract
