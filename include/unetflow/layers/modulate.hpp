#pragma once
// Conditioning by broadcast: y = h * scale (+ shift), with scale and shift one value per channel and sample
// (the [:, :, None, None] broadcast of the reference). Stateless: backward takes the forward's inputs again.
#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"

namespace unetflow {

template <class B = cpu>
struct Modulate {
  static_assert(check_backend<B>());
  using T = typename B::scalar;

  template <class S, class U, int F, class V>
  void forward(View<S, U> h, View<Vec<F>, V> scale, View<Vec<F>, V> shift, View<S, T> y) const {
    check<S, F>();
    B::modulate_forward(h.rows(), scale.rows(), shift.rows(), y.rows(), h.n, S::C, S::plane);
  }
  // dshift may be empty (no shift in the forward).
  template <class S, class U, int F, class V, class W>
  void backward(View<S, U> h, View<Vec<F>, V> scale, View<S, W> dy, View<S, T> dh, View<Vec<F>, T> dscale,
                View<Vec<F>, T> dshift) const {
    check<S, F>();
    B::modulate_backward(h.rows(), scale.rows(), dy.rows(), dh.rows(), dscale.rows(), dshift.rows(), h.n, S::C,
                         S::plane);
  }

 private:
  template <class S, int F>
  static constexpr void check() {
    static_assert(F == S::C,
                  "Modulate: the conditioning vector's width (the FCBlock's output) must equal the channel count of "
                  "the map it modulates");
  }
};

}  // namespace unetflow
