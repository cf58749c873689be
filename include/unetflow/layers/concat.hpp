#pragma once
// Channel concatenation (torch.cat(dim=1)) of two maps with the same height and width. Forward copies both into
// a buffer this object owns; backward needs no copy: the gradient's channel slices are views (split_channels).
//   forward(a, b) -> the concatenation
//   forward_first<Bs>(a) -> {the concatenation, its last Bs::C channels}: a is copied, b's producer writes there
#include <utility>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"

namespace unetflow {

template <class B = cpu>
class Concat {
  static_assert(check_backend<B>());

 public:
  using T = typename B::scalar;

  template <class A, class U, class Bs, class V>
  View<concat_t<A, Bs>, T> forward(View<A, U> a, View<Bs, V> b) {
    auto [y, yb] = forward_first<Bs>(a);
    B::copy_rows(b.rows(), yb.rows(), a.n, Bs::size);
    return y;
  }
  template <class Bs, class A, class U>
  std::pair<View<concat_t<A, Bs>, T>, View<Bs, T>> forward_first(View<A, U> a) {
    static_assert(A::H == Bs::H && A::W == Bs::W,
                  "Concat: both tensors must have the same height and width (channel concatenation only)");
    auto y = reserve_view<concat_t<A, Bs>>(out_, a.n);
    auto [ya, yb] = split_channels<A, Bs>(y);
    B::copy_rows(a.rows(), ya.rows(), a.n, A::size);
    return {y, yb};
  }
  template <class F>
  void visit(const std::string&, F&&) {}

 private:
  Storage<B> out_;
};

}  // namespace unetflow
