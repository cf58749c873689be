// A layer of your own: a learnable per-channel scale, y[c] = s[c] * x[c]. It follows the module interface
// (unetflow/module.hpp), so the gradient checker tests it and a Sequential takes it like any library module.
#include <cstdio>
#include <string>

#include <unetflow/testing/gradcheck.hpp>
#include <unetflow/unetflow.hpp>

using namespace unetflow;

template <int C, class B = cpu>
class ChannelScale {
 public:
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = In;  // the same shape out as in
  template <class In>
  static constexpr bool accepts = In::C == C;  // Sequential reports a mismatch with this

  Param<B> scale{{C}, 0.0, T(1)};  // starts at 1, as PyTorch's torch.ones(C)

  // A view of this layer's own output; x is kept for backward (the caller passes it again there).
  template <class In, class U>
  View<In, T> forward(View<In, U> x) {
    static_assert(In::C == C, "ChannelScale: the input's channel count differs from the layer's");
    auto y = reserve_view<In>(out_, x.n);
    const T* s = scale.data();  // CPU memory: plain loops are fine here
    for (int i = 0; i < x.n; ++i)
      for (int c = 0; c < C; ++c)
        for (int p = 0; p < In::plane; ++p) y.sample(i)[c * In::plane + p] = s[c] * x.sample(i)[c * In::plane + p];
    return y;
  }

  // dscale[c] += sum dy * x over the channel; dx (+)= s[c] * dy.
  template <class In, class U, class V>
  void backward(View<In, U> x, View<In, V> dy, View<In, T> dx, bool accumulate = false) {
    const T* s = scale.data();
    T* ds = scale.grad.data();
    for (int i = 0; i < x.n; ++i)
      for (int c = 0; c < C; ++c)
        for (int p = 0; p < In::plane; ++p) {
          const auto at = c * In::plane + p;
          ds[c] += dy.sample(i)[at] * x.sample(i)[at];
          if (dx) dx.sample(i)[at] = (accumulate ? dx.sample(i)[at] : T(0)) + s[c] * dy.sample(i)[at];
        }
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "scale", scale);  // the name PyTorch's state_dict would use for an nn.Parameter "scale"
  }

 private:
  Storage<B> out_;
};

int main() {
  static_assert(Module<ChannelScale<3>, Shape<3, 4, 4>>);
  // Finite differences in double precision against backward, for the layer and inside a Sequential.
  auto alone = testing::check_module_gradients<ChannelScale<3, cpu_f64>, Shape<3, 4, 4>>();
  auto inside = testing::check_module_gradients<
      Sequential<Conv<3, 4, cpu_f64>, ChannelScale<4, cpu_f64>, ToVector<cpu_f64>, Linear<64, 2, cpu_f64>>,
      Shape<3, 4, 4>>();
  std::printf("alone: %s\ninside a Sequential: %s\n", alone.summary().c_str(), inside.summary().c_str());
  return alone && inside ? 0 : 1;
}
