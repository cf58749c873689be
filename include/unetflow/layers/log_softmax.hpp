#pragma once
// LogSoftmax over each sample's vector of K values, as nn.LogSoftmax(dim=1): y = x - log sum e^x (the output
// layer of a classifier trained with nll_loss; layers/losses.hpp).
#include <string>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"

namespace unetflow {

template <class B = cpu>
class LogSoftmax : public OwnsOutput<LogSoftmax<B>, B> {
  static_assert(check_backend<B>());

 public:
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = In;
  template <class In>
  static constexpr bool accepts = In::H == 1 && In::W == 1;
  using OwnsOutput<LogSoftmax, B>::forward;

  // Keeps its output (backward needs it).
  template <class In, class U>
  void forward(View<In, U> x, View<In, T> y) {
    check<In, U>();
    auto out = reserve_view<In>(output_, x.n);
    const T* in = x.data;
    if (!x.contiguous()) {
      B::copy_rows(x.rows(), out.rows(), x.n, In::size);
      in = out.data;
    }
    B::log_softmax_rows(in, out.data, x.n, In::size);
    if (out.data != y.data || !y.contiguous()) B::copy_rows(View<In, const T>(out).rows(), y.rows(), x.n, In::size);
  }
  template <class In, class U, class V>
  void backward(View<In, U> x, View<In, V> dy, View<In, T> dx, bool accumulate = false) {
    check<In, U>();
    if (!dx) return;
    auto g = reserve_view<In>(gradient_, x.n);
    B::copy_rows(dy.rows(), g.rows(), x.n, In::size);
    B::log_softmax_backward_rows(output_.data(), g.data, x.n, In::size);
    if (accumulate)
      B::add_rows(View<In, const T>(g).rows(), dx.rows(), x.n, In::size);
    else
      B::copy_rows(View<In, const T>(g).rows(), dx.rows(), x.n, In::size);
  }
  template <class F>
  void visit(const std::string&, F&&) {}

 private:
  template <class In, class U>
  static constexpr void check() {
    static_assert(accepts<In>, "LogSoftmax: the input must be a vector of class scores (Vec<K>)");
    static_assert(detail::same_scalar_v<U, T>, "LogSoftmax: the input's scalar type differs from the backend's");
  }
  Storage<B> output_, gradient_;
};

}  // namespace unetflow
