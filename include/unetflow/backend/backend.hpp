#pragma once
// The backend contract: what a policy type (cpu, cpu_f64, cuda) must provide for the layers to run on it.
// A policy is a type with static members only; every layer, block, model, optimiser and sampler is written once
// against this contract and takes the policy as a template argument.
//
// Conventions that hold for every primitive below:
//   - T is B::scalar. Pointers and Strided rows point into the backend's memory (from B::allocate), except where a
//     primitive says "host".
//   - A Strided<T> r holds n rows; row s starts at r[s] = r.data + s * r.stride, and a row of len values (or of
//     C planes of plane values, channel-major) lies inside it. A stride larger than the row is a channel slice of a
//     wider map (a concatenation): a primitive touches only the len values of each row.
//   - "(+)=" means "=", or "+=" when the primitive's accumulate argument is true.
//   - Primitives are ordered on the backend's stream: a later call sees the results of an earlier one. Only
//     to_host, read and synchronize wait for the device.
//   - Results are deterministic: the same inputs give bit-identical outputs on the same machine and thread count.
//
// static_assert(Backend<P>) states conformance; check_backend<P>() does the same primitive by primitive, so a
// policy that lacks one fails with a single message naming it (the layers call it).
#include <concepts>
#include <cstddef>
#include <cstdint>

#include "../tensor.hpp"
#include "common.hpp"

namespace unetflow {
namespace contract {

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

// ---- element-wise over n rows of len values -------------------------------------------------------------
// activation_forward(x, y, n, len, act): y = act(x) (common.hpp's Activation, activation_math.hpp's formulas); y
// may be x. activation_backward(x, g, n, len, act): g *= act'(x), in place.
// copy_rows(x, y, n, len): y = x. add_rows(x, y, n, len): y += x.
// blend(y, x, len, a, b): y = a y + b x over one flat array (weight averaging; with b = 0, a scaling).
template <class B>
concept has_activation_forward = requires(Strided<const T<B>> x, Strided<T<B>> y, std::ptrdiff_t len, Activation a) {
  B::activation_forward(x, y, 1, len, a);
};
template <class B>
concept has_activation_backward = requires(Strided<const T<B>> x, Strided<T<B>> y, std::ptrdiff_t len, Activation a) {
  B::activation_backward(x, y, 1, len, a);
};
template <class B>
concept has_copy_rows = requires(Strided<const T<B>> x, Strided<T<B>> y, std::ptrdiff_t len) {
  B::copy_rows(x, y, 1, len);
};
template <class B>
concept has_add_rows = requires(Strided<const T<B>> x, Strided<T<B>> y, std::ptrdiff_t len) {
  B::add_rows(x, y, 1, len);
};
template <class B>
concept has_blend = requires(T<B>* y, const T<B>* x, std::ptrdiff_t len, T<B> a) {
  B::blend(y, x, len, a, a);
};

// ---- maps -------------------------------------------------------------------------------------------------
// avgpool_forward(x, y, n, C, h, w, k): k x k windows, stride k, no padding: h x w -> h/k x w/k.
// avgpool_backward(dy, dx, n, C, h, w, k, acc): dx (+)= each window's gradient spread evenly over the window.
template <class B>
concept has_avgpool_forward = requires(Strided<const T<B>> x, Strided<T<B>> y) {
  B::avgpool_forward(x, y, 1, 1, 1, 1, 1);
};
template <class B>
concept has_avgpool_backward = requires(Strided<const T<B>> x, Strided<T<B>> y) {
  B::avgpool_backward(x, y, 1, 1, 1, 1, 1, false);
};
// maxpool_forward(x, y, n, C, h, w, k, s, p): k x k windows, stride s, padding p (never the maximum):
//   h x w -> (h + 2p - k)/s + 1 per side. maxpool_backward(x, dy, dx, n, C, h, w, k, s, p, acc): dx (+)= dy at
//   each window's arg-max in x (the first maximum in row-major order; a NaN wins, as PyTorch).
template <class B>
concept has_maxpool_forward = requires(Strided<const T<B>> x, Strided<T<B>> y) {
  B::maxpool_forward(x, y, 1, 1, 1, 1, 1, 1, 0);
};
template <class B>
concept has_maxpool_backward = requires(Strided<const T<B>> x, Strided<T<B>> y) {
  B::maxpool_backward(x, x, y, 1, 1, 1, 1, 1, 1, 0, false);
};
// upsample_forward(x, y, n, C, h, w, f, bilinear): h x w -> hf x wf, nearest or bilinear (align_corners = false).
// upsample_backward(dy, dx, n, C, h, w, f, bilinear, acc): its transpose, dx (+)=.
template <class B>
concept has_upsample_forward = requires(Strided<const T<B>> x, Strided<T<B>> y) {
  B::upsample_forward(x, y, 1, 1, 1, 1, 2, true);
};
template <class B>
concept has_upsample_backward = requires(Strided<const T<B>> x, Strided<T<B>> y) {
  B::upsample_backward(x, y, 1, 1, 1, 1, 2, true, false);
};
// channel_mean(x, y, n, C, plane): y[s][c] = mean of plane c of x[s] (in double).
// channel_broadcast(dy, dx, n, C, plane, scale, acc): dx[s][c][i] (+)= scale dy[s][c].
template <class B>
concept has_channel_mean = requires(Strided<const T<B>> x, Strided<T<B>> y) {
  B::channel_mean(x, y, 1, 1, 1);
};
template <class B>
concept has_channel_broadcast = requires(Strided<const T<B>> x, Strided<T<B>> y, T<B> v) {
  B::channel_broadcast(x, y, 1, 1, 1, v, false);
};
// modulate_forward(h, scale, shift, y, n, C, plane): y[s][c][i] = h[s][c][i] scale[s][c] + shift[s][c]; shift may
// be empty (data null). modulate_backward(h, scale, dy, dh, dscale, dshift, n, C, plane): dh = dy scale,
// dscale[s][c] = sum_i dy h, dshift[s][c] = sum_i dy (when given); written, not accumulated.
template <class B>
concept has_modulate_forward = requires(Strided<const T<B>> x, Strided<T<B>> y) {
  B::modulate_forward(x, x, x, y, 1, 1, 1);
};
template <class B>
concept has_modulate_backward = requires(Strided<const T<B>> x, Strided<T<B>> y) {
  B::modulate_backward(x, x, x, y, y, y, 1, 1, 1);
};

// softmax_rows(x, rows, len): in place, each of `rows` contiguous rows of len values becomes its softmax
// (the row's maximum subtracted first). softmax_backward_rows(a, g, rows, len): in place, a is the softmax's
// output, g holds dL/da on entry and dL/dx on exit: g = a (g - sum_j g_j a_j), row by row.
template <class B>
concept has_softmax_rows = requires(T<B>* p) {
  B::softmax_rows(p, 1, 1);
};
template <class B>
concept has_softmax_backward_rows = requires(const T<B>* a, T<B>* p) {
  B::softmax_backward_rows(a, p, 1, 1);
};

// dropout_mask(mask, len, p, seed, draw): mask[i] = 1 / (1 - p) where dropout_hash::keep(seed, draw, i) holds,
// else 0: the same mask on every backend.
template <class B>
concept has_dropout_mask = requires(T<B>* m, std::ptrdiff_t len, double p, std::uint64_t u) {
  B::dropout_mask(m, len, p, u, u);
};
// embedding_forward(index, weight, y, n, dim): y[s] = row index[s] of weight (rows x dim); index holds n whole
// numbers in [0, rows) (the caller checks). embedding_backward(index, dy, dweight, n, dim, rows): dweight's row
// index[s] += dy[s], in sample order.
template <class B>
concept has_embedding_forward = requires(const T<B>* i, Strided<T<B>> y) {
  B::embedding_forward(i, i, y, 1, 1);
};
template <class B>
concept has_embedding_backward = requires(const T<B>* i, Strided<const T<B>> dy, T<B>* dw) {
  B::embedding_backward(i, dy, dw, 1, 1, 1);
};

// log_softmax_rows(x, y, rows, len): each of `rows` contiguous rows of len values, y = x - max - log sum e^(x - max)
// (y may be x). log_softmax_backward_rows(y, g, rows, len): in place, g = g - e^y sum_j g_j, row by row.
template <class B>
concept has_log_softmax_rows = requires(const T<B>* x, T<B>* p) {
  B::log_softmax_rows(x, p, 1, 1);
};
template <class B>
concept has_log_softmax_backward_rows = requires(const T<B>* a, T<B>* p) {
  B::log_softmax_backward_rows(a, p, 1, 1);
};

// ---- losses and training ------------------------------------------------------------------------------------
// mse(pred, target, grad, n, len, loss): *loss (backend memory) = mean (pred - target)^2 over n x len values;
// grad = dL/dpred when grad.data is not null.
template <class B>
concept has_mse = requires(Strided<const T<B>> x, Strided<T<B>> g, std::ptrdiff_t len, double* loss) {
  B::mse(x, x, g, 1, len, loss);
};
// elementwise_loss(kind, pred, target, grad, n, len, beta, scale, loss): *loss = scale * sum of loss_math.hpp's
// element losses over n x len values; grad = scale * their gradients when grad.data is not null.
template <class B>
concept has_elementwise_loss = requires(Strided<const T<B>> x, Strided<T<B>> g, std::ptrdiff_t len, double* loss) {
  B::elementwise_loss(ElementLoss::l1, x, x, g, 1, len, 1.0, 1.0, loss);
};
// interpolate(x0, x1, t, xt, target, n, len): xt = (1 - t[s]) x0 + t[s] x1 and target = x1 - x0 (flow matching).
template <class B>
concept has_interpolate = requires(Strided<const T<B>> x, Strided<T<B>> y, const T<B>* t, std::ptrdiff_t len) {
  B::interpolate(x, x, t, y, y, 1, len);
};
// adam_update(p, g, m, v, len, lr, beta1, beta2, eps, weight_decay, step): torch.optim.Adam's step over len
// values in place (L2 weight decay, bias correction with step >= 1, eps added after the square root).
template <class B>
concept has_adam_update = requires(T<B>* p, const T<B>* g, std::ptrdiff_t len, double d, long step) {
  B::adam_update(p, g, p, p, len, d, d, d, d, d, step);
};

// sgd_update(p, g, buf, len, lr, momentum, dampening, weight_decay, nesterov, first), rmsprop_update(p, g,
// square_avg, grad_avg, buf, len, lr, alpha, eps, weight_decay, momentum, centered), adadelta_update(p, g,
// square_avg, acc_delta, len, lr, rho, eps, weight_decay): torch.optim's steps in place (cpu/optimiser.hpp has the
// formulas); state buffers an option does not use may be null.
template <class B>
concept has_sgd_update = requires(T<B>* p, std::ptrdiff_t len, double d) {
  B::sgd_update(p, p, p, len, d, d, d, d, true, true);
};
template <class B>
concept has_rmsprop_update = requires(T<B>* p, std::ptrdiff_t len, double d) {
  B::rmsprop_update(p, p, p, p, p, len, d, d, d, d, d, true);
};
template <class B>
concept has_adadelta_update = requires(T<B>* p, std::ptrdiff_t len, double d) {
  B::adadelta_update(p, p, p, p, len, d, d, d, d);
};
// sum_squares(x, len, out, acc): *out (backend memory) (+)= sum of x^2 in double (gradient clipping's norm).
template <class B>
concept has_sum_squares = requires(const T<B>* x, std::ptrdiff_t len, double* out) {
  B::sum_squares(x, len, out, true);
};

}  // namespace contract

template <class B>
concept Backend = contract::has_scalar<B> && contract::has_name<B> && contract::has_host_accessible<B> &&
    contract::has_threads<B> && contract::has_conv_epilogues<B> && contract::has_allocate<B> && contract::has_fill<B> &&
    contract::has_copy<B> && contract::has_to_host<B> && contract::has_from_host<B> && contract::has_read<B> &&
    contract::has_synchronize<B> && contract::has_scratch<B> && contract::has_activation_scratch<B> &&
    contract::has_graph<B> && contract::has_gemm<B> && contract::has_conv_forward<B> &&
    contract::has_conv_backward_data<B> && contract::has_conv_backward_weight<B> && contract::has_add_channel_bias<B> &&
    contract::has_channel_sums<B> && contract::has_bn_stats<B> && contract::has_bn_prepare<B> &&
    contract::has_bn_apply<B> && contract::has_bn_apply_sample<B> && contract::has_bn_backward<B> &&
    contract::has_activation_forward<B> && contract::has_activation_backward<B> && contract::has_copy_rows<B> &&
    contract::has_add_rows<B> && contract::has_blend<B> && contract::has_avgpool_forward<B> &&
    contract::has_avgpool_backward<B> && contract::has_modulate_forward<B> && contract::has_modulate_backward<B> &&
    contract::has_softmax_rows<B> && contract::has_softmax_backward_rows<B> && contract::has_mse<B> &&
    contract::has_interpolate<B> && contract::has_adam_update<B> && contract::has_maxpool_forward<B> &&
    contract::has_maxpool_backward<B> && contract::has_upsample_forward<B> && contract::has_upsample_backward<B> &&
    contract::has_channel_mean<B> && contract::has_channel_broadcast<B> && contract::has_dropout_mask<B> &&
    contract::has_embedding_forward<B> && contract::has_embedding_backward<B> && contract::has_elementwise_loss<B> &&
    contract::has_sgd_update<B> && contract::has_rmsprop_update<B> && contract::has_adadelta_update<B> &&
    contract::has_sum_squares<B> && contract::has_log_softmax_rows<B> && contract::has_log_softmax_backward_rows<B>;

// Backend<B> one primitive at a time, so that a policy breaking the contract fails with one message naming what
// it lacks (layers call it). Without B::scalar nothing else can be checked, so the rest waits for it.
template <class B>
consteval bool check_backend() {
  static_assert(contract::has_scalar<B>, "Backend: the policy lacks the type scalar");
  if constexpr (contract::has_scalar<B>) {
    static_assert(contract::has_name<B>, "Backend: the policy lacks name");
    static_assert(contract::has_host_accessible<B>, "Backend: the policy lacks host_accessible");
    static_assert(contract::has_threads<B>, "Backend: the policy lacks threads()");
    static_assert(contract::has_conv_epilogues<B>, "Backend: the policy lacks conv_epilogues");
    static_assert(contract::has_allocate<B>, "Backend: the policy lacks allocate<T>(n) / deallocate<T>(p)");
    static_assert(contract::has_fill<B>, "Backend: the policy lacks fill");
    static_assert(contract::has_copy<B>, "Backend: the policy lacks copy");
    static_assert(contract::has_to_host<B>, "Backend: the policy lacks to_host");
    static_assert(contract::has_from_host<B>, "Backend: the policy lacks from_host");
    static_assert(contract::has_read<B>, "Backend: the policy lacks read");
    static_assert(contract::has_synchronize<B>, "Backend: the policy lacks synchronize");
    static_assert(contract::has_scratch<B>, "Backend: the policy lacks scratch(Use, slot, n)");
    static_assert(contract::has_activation_scratch<B>, "Backend: the policy lacks activation_scratch");
    static_assert(contract::has_graph<B>, "Backend: the policy lacks Graph with run(key, f)");
    static_assert(contract::has_gemm<B>, "Backend: the policy lacks gemm");
    static_assert(contract::has_conv_forward<B>,
                  "Backend: the policy lacks conv_forward (with and without an epilogue)");
    static_assert(contract::has_conv_backward_data<B>,
                  "Backend: the policy lacks conv_backward_data (with and without an epilogue)");
    static_assert(contract::has_conv_backward_weight<B>, "Backend: the policy lacks conv_backward_weight");
    static_assert(contract::has_add_channel_bias<B>, "Backend: the policy lacks add_channel_bias");
    static_assert(contract::has_channel_sums<B>, "Backend: the policy lacks channel_sums");
    static_assert(contract::has_bn_stats<B>, "Backend: the policy lacks bn_stats");
    static_assert(contract::has_bn_prepare<B>, "Backend: the policy lacks bn_prepare");
    static_assert(contract::has_bn_apply<B>, "Backend: the policy lacks bn_apply");
    static_assert(contract::has_bn_apply_sample<B>, "Backend: the policy has conv_epilogues but lacks bn_apply_sample");
    static_assert(contract::has_bn_backward<B>, "Backend: the policy lacks bn_backward");
    static_assert(contract::has_activation_forward<B>, "Backend: the policy lacks activation_forward");
    static_assert(contract::has_activation_backward<B>, "Backend: the policy lacks activation_backward");
    static_assert(contract::has_copy_rows<B>, "Backend: the policy lacks copy_rows");
    static_assert(contract::has_add_rows<B>, "Backend: the policy lacks add_rows");
    static_assert(contract::has_blend<B>, "Backend: the policy lacks blend");
    static_assert(contract::has_avgpool_forward<B>, "Backend: the policy lacks avgpool_forward");
    static_assert(contract::has_avgpool_backward<B>, "Backend: the policy lacks avgpool_backward");
    static_assert(contract::has_modulate_forward<B>, "Backend: the policy lacks modulate_forward");
    static_assert(contract::has_modulate_backward<B>, "Backend: the policy lacks modulate_backward");
    static_assert(contract::has_softmax_rows<B>, "Backend: the policy lacks softmax_rows");
    static_assert(contract::has_softmax_backward_rows<B>, "Backend: the policy lacks softmax_backward_rows");
    static_assert(contract::has_mse<B>, "Backend: the policy lacks mse");
    static_assert(contract::has_interpolate<B>, "Backend: the policy lacks interpolate");
    static_assert(contract::has_adam_update<B>, "Backend: the policy lacks adam_update");
    static_assert(contract::has_maxpool_forward<B>, "Backend: the policy lacks maxpool_forward");
    static_assert(contract::has_maxpool_backward<B>, "Backend: the policy lacks maxpool_backward");
    static_assert(contract::has_upsample_forward<B>, "Backend: the policy lacks upsample_forward");
    static_assert(contract::has_upsample_backward<B>, "Backend: the policy lacks upsample_backward");
    static_assert(contract::has_channel_mean<B>, "Backend: the policy lacks channel_mean");
    static_assert(contract::has_channel_broadcast<B>, "Backend: the policy lacks channel_broadcast");
    static_assert(contract::has_dropout_mask<B>, "Backend: the policy lacks dropout_mask");
    static_assert(contract::has_embedding_forward<B>, "Backend: the policy lacks embedding_forward");
    static_assert(contract::has_embedding_backward<B>, "Backend: the policy lacks embedding_backward");
    static_assert(contract::has_elementwise_loss<B>, "Backend: the policy lacks elementwise_loss");
    static_assert(contract::has_sgd_update<B>, "Backend: the policy lacks sgd_update");
    static_assert(contract::has_rmsprop_update<B>, "Backend: the policy lacks rmsprop_update");
    static_assert(contract::has_adadelta_update<B>, "Backend: the policy lacks adadelta_update");
    static_assert(contract::has_sum_squares<B>, "Backend: the policy lacks sum_squares");
    static_assert(contract::has_log_softmax_rows<B>, "Backend: the policy lacks log_softmax_rows");
    static_assert(contract::has_log_softmax_backward_rows<B>, "Backend: the policy lacks log_softmax_backward_rows");
  }
  return true;
}

}  // namespace unetflow
