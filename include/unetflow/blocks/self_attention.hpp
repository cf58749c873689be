#pragma once
// SelfAttention<C, Heads>: multi-head self-attention over the pixels of a (low-resolution) map, with a residual:
//   q, k, v = qkv(x)                      a 1x1 Conv2d to 3C channels: q the first C, k the next, v the last
//   per head (d = C / Heads channels):    A = softmax(q^T k / sqrt(d)) over the keys (P x P, P = H W),  o = v A^T
//   y = x + proj(o)                       proj a 1x1 Conv2d
// The attention matrices (n * Heads * P * P values) are kept for backward, so this is for maps like 7x7 or 8x8
// (P = 49, 64), not for full-resolution ones. State names as a PyTorch module with members qkv and proj.
//   forward(x), backward(x, dy, dx, accumulate): the module interface (module.hpp); dy is overwritten.
#include <cmath>
#include <string>

#include "../layers/conv2d.hpp"

namespace unetflow {

template <int C, int Heads, class B = cpu>
class SelfAttention {
  static_assert(Heads > 0 && C % Heads == 0, "SelfAttention: the channel count must be a multiple of the head count");

 public:
  using backend = B;
  using T = typename B::scalar;
  static constexpr int in_channels = C, out_channels = C, head_size = C / Heads;
  template <class In>
  using output_shape = In;
  template <class In>
  static constexpr bool accepts = In::C == C;

  Conv2d<C, 3 * C, 1, 1, 0, B> qkv;
  Conv2d<C, C, 1, 1, 0, B> proj;

  template <class In, class U>
  View<In, T> forward(View<In, U> x) {
    static_assert(In::C == C, "SelfAttention: the input's channel count differs from the block's");
    using QKV = Shape<3 * C, In::H, In::W>;
    constexpr int P = In::plane, d = head_size;
    const int n = x.n;
    auto q = reserve_view<QKV>(qkv_, n);
    qkv.forward(x, q);
    auto a = reserve_attention<In>(n);
    for (int s = 0; s < n; ++s)
      for (int h = 0; h < Heads; ++h)
        B::gemm(true, false, P, P, d, scale(), head(q.sample(s), 0, h, P), P, head(q.sample(s), 1, h, P), P, T(0),
                attention(a, s, h, P), P);
    B::softmax_rows(a, std::ptrdiff_t(n) * Heads * P, P);
    auto o = reserve_view<In>(attended_, n);
    for (int s = 0; s < n; ++s)
      for (int h = 0; h < Heads; ++h)
        B::gemm(false, true, d, P, P, T(1), head(q.sample(s), 2, h, P), P, attention(a, s, h, P), P, T(0),
                o.sample(s) + std::ptrdiff_t(h) * d * P, P);
    auto y = reserve_view<In>(out_, n);
    proj.forward(View<In, const T>(o), y);
    B::add_rows(View<In, const T>{x.data, x.n, x.stride}.rows(), y.rows(), n, In::size);
    n_ = n;
    return y;
  }

  template <class In, class U, class V>
  void backward(View<In, U> x, View<In, V> dy, View<In, T> dx, bool accumulate = false) {
    using QKV = Shape<3 * C, In::H, In::W>;
    constexpr int P = In::plane, d = head_size;
    const int n = x.n;
    if (n != n_ || dy.n != n_ || (dx && dx.n != n_))
      throw Error("SelfAttention::backward: x, dy and dx must hold the last forward's " + std::to_string(n_) +
                  " samples.");
    if (dx) {  // the residual's share
      if (accumulate)
        B::add_rows(View<In, const T>{dy.data, dy.n, dy.stride}.rows(), dx.rows(), n, In::size);
      else
        B::copy_rows(View<In, const T>{dy.data, dy.n, dy.stride}.rows(), dx.rows(), n, In::size);
    }
    View<In, const T> o{attended_.data(), n};
    auto dout = reserve_view<In>(gradient_, n);
    proj.backward(o, dy, dout);
    View<QKV, const T> q{qkv_.data(), n};
    const T* a = attention_.data();
    T* da = attention_gradient_.data();
    auto dq = reserve_view<QKV>(qkv_gradient_, n);
    for (int s = 0; s < n; ++s)
      for (int h = 0; h < Heads; ++h) {
        const T* dout_h = dout.sample(s) + std::ptrdiff_t(h) * d * P;
        // dv = do A;  dA = do^T v
        B::gemm(false, false, d, P, P, T(1), dout_h, P, attention(a, s, h, P), P, T(0), head(dq.sample(s), 2, h, P), P);
        B::gemm(true, false, P, P, d, T(1), dout_h, P, head(q.sample(s), 2, h, P), P, T(0), attention(da, s, h, P), P);
      }
    B::softmax_backward_rows(a, da, std::ptrdiff_t(n) * Heads * P, P);
    for (int s = 0; s < n; ++s)
      for (int h = 0; h < Heads; ++h) {
        // dq = scale k dS^T;  dk = scale q dS
        B::gemm(false, true, d, P, P, scale(), head(q.sample(s), 1, h, P), P, attention(da, s, h, P), P, T(0),
                head(dq.sample(s), 0, h, P), P);
        B::gemm(false, false, d, P, P, scale(), head(q.sample(s), 0, h, P), P, attention(da, s, h, P), P, T(0),
                head(dq.sample(s), 1, h, P), P);
      }
    qkv.backward(x, View<QKV, const T>(dq), dx, bool(dx));
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    qkv.visit(prefix + "qkv.", f);
    proj.visit(prefix + "proj.", f);
  }

 private:
  static T scale() { return T(1.0 / std::sqrt(double(head_size))); }
  // Head h of part `part` (0 q, 1 k, 2 v) in one sample of the qkv map: d rows of P values.
  template <class Ptr>
  static Ptr head(Ptr sample, int part, int h, int P) {
    return sample + (std::ptrdiff_t(part) * C + std::ptrdiff_t(h) * head_size) * P;
  }
  template <class Ptr>
  static Ptr attention(Ptr a, int s, int h, int P) {
    return a + (std::ptrdiff_t(s) * Heads + h) * P * P;
  }
  template <class In>
  T* reserve_attention(int n) {
    const std::ptrdiff_t size = std::ptrdiff_t(n) * Heads * In::plane * In::plane;
    attention_.reserve(size);
    attention_gradient_.reserve(size);
    return attention_.data();
  }

  Storage<B> qkv_, attention_, attention_gradient_, attended_, out_, gradient_, qkv_gradient_;
  int n_ = 0;
};

}  // namespace unetflow
