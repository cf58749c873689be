#pragma once
// The backend contract, second part (backend.hpp states the conventions and the Backend concept): element-wise maps,
// pooling and resampling, dropout masks, embeddings, losses and the optimisers' updates.
#include <concepts>
#include <cstddef>
#include <cstdint>

#include "../tensor.hpp"
#include "common.hpp"
#include "contract_core.hpp"

namespace unetflow::contract {

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

}  // namespace unetflow::contract
