#pragma once
// BatchNorm2d<C>: PyTorch's semantics (eps 1e-5, momentum 0.1, affine). Training normalises with the batch's
// statistics and moves the running ones (unbiased variance); evaluation normalises with the running ones.
//   forward(x, y, act)       y may alias x; act = Activation::gelu applies GELU to the output in the same pass
//   forward(x, y, act, b)    normalises x + b[c] without forming it (a convolution's bias, folded in: the
//                            statistics are kept for x as stored, the running mean is moved by x + b)
//   replay(x, y, act)        the last forward's output again, from its saved statistics (no running update)
//   prepare_evaluation(b), apply_sample(x, y, plane, act)   evaluation mode one sample at a time
//   backward(x, dy, dx, acc) the layer protocol (module.hpp); dx may alias dy (then it is computed in place)
//   backward_fused(x, dy, dx, act)  with act = gelu, dy is the gradient of GELU's output, whose input is recomputed
//                            from x (nothing else is kept); dx may alias dy
#include <string>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"
#include "../param.hpp"

namespace unetflow {

template <int C, class B = cpu>
class BatchNorm2d : public OwnsOutput<BatchNorm2d<C, B>, B> {
  static_assert(check_backend<B>());

 public:
  using backend = B;
  using T = typename B::scalar;
  static constexpr double eps = 1e-5, momentum = 0.1;
  template <class In>
  using output_shape = In;
  template <class In>
  static constexpr bool accepts = In::C == C;
  using OwnsOutput<BatchNorm2d, B>::forward;

  Param<B> weight{{C}, 0.0, T(1)};
  Param<B> bias{{C}, 0.0, T(0)};
  Buffer<B> running_mean{{C}, T(0)};
  Buffer<B> running_var{{C}, T(1)};
  Counter num_batches_tracked;
  Mode mode;
  using Activation = typename B::Activation;

  template <class In, class U, class Out>
  void forward(View<In, U> x, View<Out, T> y, Activation act = Activation::none, const T* offset = nullptr) {
    check<In, U, Out>();
    const bool training = mode.training;
    if (training) {
      B::bn_stats(x.rows(), x.n, C, In::plane, mean_.data(), invstd_.data());
      ++num_batches_tracked.value;
      if (offset) B::blend(mean_.data(), offset, C, T(1), T(1));  // the running mean follows the mean of x + b
    }
    B::bn_prepare(mean_.data(), invstd_.data(), running_mean.data(), running_var.data(), C, double(x.n) * In::plane,
                  momentum, eps, training);
    if (offset) B::blend(mean_.data(), offset, C, T(1), T(-1));  // normalising x + b with m is normalising x with m - b
    saved_batch_stats_ = training;
    replay(x, y, act);
  }

  // Evaluation mode applied sample by sample (a backend that runs it as a convolution's epilogue): the running
  // statistics, with the offset as in forward; then apply_sample(x, y, plane, act) per sample.
  void prepare_evaluation(const T* offset = nullptr) {
    B::bn_prepare(mean_.data(), invstd_.data(), running_mean.data(), running_var.data(), C, 1.0, momentum, eps, false);
    if (offset) B::blend(mean_.data(), offset, C, T(1), T(-1));
    saved_batch_stats_ = false;
  }
  void apply_sample(const T* x, T* y, int plane, Activation act) const {
    B::bn_apply_sample(x, y, C, plane, mean_.data(), invstd_.data(), weight.data(), bias.data(), act);
  }

  template <class In, class U, class Out>
  void replay(View<In, U> x, View<Out, T> y, Activation act = Activation::none) const {
    check<In, U, Out>();
    B::bn_apply(x.rows(), y.rows(), x.n, C, In::plane, mean_.data(), invstd_.data(), weight.data(), bias.data(), act);
  }

  template <class In, class U, class Out, class V>
  void backward(View<In, U> x, View<Out, V> dy, View<In, T> dx, bool accumulate = false) {
    if (dx && !accumulate) return backward_fused(x, dy, dx, Activation::none);
    // dx += the gradient, or no dx at all (the parameters' gradients only): formed in a buffer of our own
    auto g = reserve_view<In>(gradient_, x.n);
    backward_fused(x, dy, g, Activation::none);
    if (dx) B::add_rows(View<In, const T>(g).rows(), dx.rows(), x.n, In::size);
  }
  template <class In, class U, class Out, class V>
  void backward_fused(View<In, U> x, View<Out, V> dy, View<In, T> dx, Activation act) {
    check<In, U, Out>();
    if (dx.data != dy.data || dx.stride != dy.stride) B::copy_rows(dy.rows(), dx.rows(), x.n, In::size);
    B::bn_backward(x.rows(), dx.rows(), x.n, C, In::plane, mean_.data(), invstd_.data(), weight.data(), bias.data(),
                   weight.grad.data(), bias.grad.data(), saved_batch_stats_, act);
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "weight", weight);
    f(prefix + "bias", bias);
    f(prefix + "running_mean", running_mean);
    f(prefix + "running_var", running_var);
    f(prefix + "num_batches_tracked", num_batches_tracked);
    f(prefix + "training", mode);
  }

 private:
  template <class In, class U, class Out>
  static constexpr void check() {
    static_assert(In::C == C, "BatchNorm2d: the input's channel count differs from the layer's");
    static_assert(std::is_same_v<In, Out>, "BatchNorm2d: input and output shapes must be equal");
    static_assert(detail::same_scalar_v<U, T>, "BatchNorm2d: the input's scalar type differs from the backend's");
  }
  Storage<B> mean_{C}, invstd_{C};
  Storage<B> gradient_;  // only for a backward that accumulates into dx or has none
  bool saved_batch_stats_ = true;
};

}  // namespace unetflow
