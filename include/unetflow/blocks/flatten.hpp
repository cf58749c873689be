#pragma once
// Flatten: the whole map averaged to one value per channel (AvgPool2d over the full map, K = its side), then
// GELU: the UNet's bottleneck (docs/models.md's Flatten; 7x7 -> 1x1 on 28x28 images, 8x8 -> 1x1 on 32x32).
#include <string>

#include "../layers/avgpool2d.hpp"
#include "../layers/activation.hpp"

namespace unetflow {

namespace detail {
template <class In, int C>
struct FlattenOutput {
  static_assert(In::H == In::W, "Flatten: the map must be square (it averages a K x K map with one K x K window)");
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
  static constexpr bool accepts = In::C == C&& In::H == In::W;

  GELU<B> gelu;

  template <class In, class U>
  View<output_shape<In>, T> forward(View<In, U> x) {
    auto p = reserve_view<Vec<C>>(pooled_, x.n);
    auto a = reserve_view<Vec<C>>(out_, x.n);
    B::avgpool_forward(x.rows(), p.rows(), x.n, C, In::H, In::W, In::H);
    gelu.forward(p, a);
    return a;
  }

  template <class In, class U, class V>
  void backward(View<In, U> x, View<Vec<C>, V> dy, View<In, T> dx, bool accumulate = false) {
    gelu.backward(View<Vec<C>, T>{pooled_.data(), x.n}, dy, dy);
    if (dx) B::avgpool_backward(dy.rows(), dx.rows(), x.n, C, In::H, In::W, In::H, accumulate);
  }

  template <class F>
  void visit(const std::string&, F&&) {}

 private:
  Storage<B> pooled_, out_;
};

}  // namespace unetflow
