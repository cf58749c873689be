#pragma once
// Dropout(p) and Dropout2d(p), as nn.Dropout and nn.Dropout2d: in training mode each element (Dropout) or each
// channel of each sample (Dropout2d) is zeroed with probability p and the rest scaled by 1 / (1 - p); in evaluation
// mode, the identity. The mask comes from the layer's random stream (param.hpp's Stream: a seed and a draw count,
// kept by training checkpoints), drawn by a counter-based hash that every backend computes alike: a resumed run
// draws the same masks, and so does the GPU. Backward multiplies by the mask of the last forward.
#include <string>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../error.hpp"
#include "../module.hpp"
#include "../param.hpp"

namespace unetflow {
namespace detail {

// PerChannel: one mask value per (sample, channel), broadcast over the plane (Dropout2d).
template <class Derived, bool PerChannel, class B>
class DropoutLayer : public OwnsOutput<Derived, B> {
  static_assert(check_backend<B>());

 public:
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = In;
  using OwnsOutput<Derived, B>::forward;

  Mode mode;
  Stream stream;

  explicit DropoutLayer(double p) { set_p(p); }
  double p() const { return p_; }
  void set_p(double p) {
    if (!(p >= 0 && p <= 1))
      throw Error("Dropout: the drop probability p is " + std::to_string(p) + "; it must lie in [0, 1].");
    p_ = p;
  }

  template <class S, class U>
  void forward(View<S, U> x, View<S, T> y) {
    static_assert(detail::same_scalar_v<U, T>, "Dropout: the input's scalar type differs from the backend's");
    active_ = mode.training && p_ > 0;
    if (!active_) {
      if (x.data != y.data || x.stride != y.stride) B::copy_rows(x.rows(), y.rows(), x.n, S::size);
      return;
    }
    constexpr int channels = PerChannel ? S::C : int(S::size), plane = PerChannel ? S::plane : 1;
    mask_.reserve(std::ptrdiff_t(x.n) * channels);
    B::dropout_mask(mask_.data(), std::ptrdiff_t(x.n) * channels, p_, std::uint64_t(stream.seed.value),
                    std::uint64_t(stream.draws.value));
    ++stream.draws.value;
    B::modulate_forward(x.rows(), Strided<const T>{mask_.data(), channels}, {}, y.rows(), x.n, channels, plane);
  }
  // dx (+)= dy * mask; dx may be dy.
  template <class S, class U, class V>
  void backward(View<S, U> x, View<S, V> dy, View<S, T> dx, bool accumulate = false) {
    if (!dx) return;
    constexpr int channels = PerChannel ? S::C : int(S::size), plane = PerChannel ? S::plane : 1;
    if (!active_) {
      if (accumulate)
        B::add_rows(dy.rows(), dx.rows(), x.n, S::size);
      else if (dx.data != dy.data || dx.stride != dy.stride)
        B::copy_rows(dy.rows(), dx.rows(), x.n, S::size);
      return;
    }
    const Strided<const T> mask{mask_.data(), channels};
    if (!accumulate) return B::modulate_forward(dy.rows(), mask, {}, dx.rows(), x.n, channels, plane);
    auto g = reserve_view<S>(gradient_, x.n);
    B::modulate_forward(dy.rows(), mask, {}, g.rows(), x.n, channels, plane);
    B::add_rows(View<S, const T>(g).rows(), dx.rows(), x.n, S::size);
  }
  // The mask of the last training forward (n x C values for Dropout2d, n x size for Dropout), in backend memory.
  const T* mask() const { return mask_.data(); }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "training", mode);
    f(prefix + "stream", stream);
  }

 private:
  double p_ = 0.5;
  bool active_ = false;
  Storage<B> mask_, gradient_;
};

}  // namespace detail

template <class B = cpu>
struct Dropout : detail::DropoutLayer<Dropout<B>, false, B> {
  explicit Dropout(double p = 0.5) : detail::DropoutLayer<Dropout<B>, false, B>(p) {}
};
template <class B = cpu>
struct Dropout2d : detail::DropoutLayer<Dropout2d<B>, true, B> {
  explicit Dropout2d(double p = 0.5) : detail::DropoutLayer<Dropout2d<B>, true, B>(p) {}
};

}  // namespace unetflow
