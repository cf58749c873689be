#pragma once
// Flatten: AvgPool2d(7) then GELU, a 7x7 map to 1x1 (docs/models.md's Flatten; the UNet's bottleneck).
#include <string>

#include "../layers/avgpool2d.hpp"
#include "../layers/gelu.hpp"

namespace unetflow {

namespace detail {
template <class In, int C>
struct FlattenOutput {
  static_assert(In::H == 7 && In::W == 7,
                "Flatten: expects a 7x7 map here (two stride-2 downsamplings of 28x28); this map is not 7x7");
  static_assert(In::C == C, "Flatten: the input's channel count differs from the block's");
  using type = Vec<C>;
};
}  // namespace detail

template <int C, class B = cpu>
class Flatten {
 public:
  using backend = B;
  using T = typename B::scalar;
  static constexpr int in_channels = C, out_channels = C;
  template <class In>
  using output_shape = typename detail::FlattenOutput<In, C>::type;
  template <class In>
  static constexpr bool accepts = In::C == C && In::H == 7 && In::W == 7;

  AvgPool2d<7, B> pool;
  GELU<B> gelu;

  template <class In, class U>
  View<output_shape<In>, T> forward(View<In, U> x) {
    auto p = reserve_view<Vec<C>>(pooled_, x.n);
    auto a = reserve_view<Vec<C>>(out_, x.n);
    pool.forward(x, p);
    gelu.forward(p, a);
    return a;
  }

  template <class In, class U, class V>
  void backward(View<In, U> x, View<Vec<C>, V> dy, View<In, T> dx, bool accumulate = false) {
    gelu.backward(View<Vec<C>, T>{pooled_.data(), x.n}, dy, dy);
    pool.backward(x, dy, dx, accumulate);
  }

  template <class F>
  void visit(const std::string&, F&&) {}

 private:
  Storage<B> pooled_, out_;
};

}  // namespace unetflow
