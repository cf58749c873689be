#pragma once
// Linear<Fin, Fout>: y = x w^T + b over feature vectors (Vec<F> = Shape<F, 1, 1>), weight layout [Fout][Fin].
#include <cmath>
#include <string>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../module.hpp"
#include "../param.hpp"

namespace unetflow {

template <int Fin, int Fout, class B = cpu>
class Linear : public OwnsOutput<Linear<Fin, Fout, B>, B> {
  static_assert(check_backend<B>());

 public:
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = Vec<Fout>;
  using input_shape = Vec<Fin>;
  template <class In>
  static constexpr bool accepts = std::is_same_v<In, Vec<Fin>>;
  using OwnsOutput<Linear, B>::forward;

  Param<B> weight{{Fout, Fin}, 1.0 / std::sqrt(double(Fin))};
  Param<B> bias{{Fout}, 1.0 / std::sqrt(double(Fin))};

  template <class In, class U>
  void forward(View<In, U> x, View<Vec<Fout>, T> y) {
    check<In, U>();
    B::copy_rows(Strided<const T>{bias.data(), 0}, y.rows(), x.n, Fout);
    B::gemm(false, true, x.n, Fout, Fin, T(1), x.data, int(x.stride), weight.data(), Fin, T(1), y.data, int(y.stride));
  }

  template <class In, class U, class V>
  void backward(View<In, U> x, View<Vec<Fout>, V> dy, View<In, T> dx, bool accumulate = false) {
    check<In, U>();
    B::channel_sums(dy.rows(), x.n, Fout, 1, bias.grad.data());
    B::gemm(true, false, Fout, Fin, x.n, T(1), dy.data, int(dy.stride), x.data, int(x.stride), T(1), weight.grad.data(),
            Fin);
    if (dx)
      B::gemm(false, false, x.n, Fin, Fout, T(1), dy.data, int(dy.stride), weight.data(), Fin, accumulate ? T(1) : T(0),
              dx.data, int(dx.stride));
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "weight", weight);
    f(prefix + "bias", bias);
  }

 private:
  template <class In, class U>
  static constexpr void check() {
    static_assert(std::is_same_v<In, Vec<Fin>>, "Linear: the input must be a feature vector of Fin features");
    static_assert(detail::same_scalar_v<U, T>, "Linear: the input's scalar type differs from the backend's");
  }
};

}  // namespace unetflow
