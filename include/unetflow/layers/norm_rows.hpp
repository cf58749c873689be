#pragma once
// What GroupNorm and LayerNorm share: both see the batch as one sample of `rows` channels (the groups, or the
// normalised extents) and run the backend's BatchNorm primitives over it with gamma 1 and beta 0, then apply their
// own affine as a modulation. NormRows holds the per-row buffers those primitives need.
#include "../backend/backend.hpp"
#include "../tensor.hpp"

namespace unetflow::detail {

template <class B>
struct NormRows {
  using T = typename B::scalar;
  // Statistics, gamma = 1 and beta = 0 for the primitives, and slots for the running statistics and parameter
  // gradients that the BatchNorm primitives update and these norms do not keep.
  Storage<B> mean, invstd, ones, zeros, unused_a, unused_b;

  void prepare(int rows) {
    if (rows <= prepared_) return;
    for (Storage<B>* s : {&mean, &invstd, &ones, &zeros, &unused_a, &unused_b}) s->reserve(rows);
    B::fill(ones.data(), rows, T(1));
    for (Storage<B>* s : {&zeros, &unused_a, &unused_b}) B::fill(s->data(), rows, T(0));
    prepared_ = rows;
  }
  // The samples of x back to back (a channel slice of a concatenation is copied once, into `copy`).
  template <class In, class U>
  static Strided<const T> contiguous(View<In, U> x, Storage<B>& copy) {
    if (x.contiguous()) return {x.data, 0};
    auto c = reserve_view<In>(copy, x.n);
    B::copy_rows(View<In, const T>(x).rows(), c.rows(), x.n, In::size);
    return {c.data, 0};
  }

 private:
  int prepared_ = 0;
};

}  // namespace unetflow::detail
