#pragma once
// FCBlock<Fin, Fout, B, Act>: Linear(Fin, Fout) -> Act (GELU by default) -> Linear(Fout, Fout), the conditioning
// network (docs/models.md).
#include <string>

#include "../layers/activation.hpp"
#include "../layers/linear.hpp"

namespace unetflow {

template <int Fin, int Fout, class B = cpu, template <class> class Act = GELU>
class FCBlock {
 public:
  using backend = B;
  using T = typename B::scalar;
  static constexpr int in_channels = Fin, out_channels = Fout;
  template <class In>
  using output_shape = Vec<Fout>;
  using input_shape = Vec<Fin>;
  template <class In>
  static constexpr bool accepts = std::is_same_v<In, Vec<Fin>>;

  Linear<Fin, Fout, B> fc1;
  Act<B> act;
  Linear<Fout, Fout, B> fc2;

  template <class In, class U>
  View<Vec<Fout>, T> forward(View<In, U> x) {
    static_assert(std::is_same_v<In, Vec<Fin>>, "FCBlock: the input must be a vector of Fin features");
    auto h = reserve_view<Vec<Fout>>(h_, x.n);
    auto a = reserve_view<Vec<Fout>>(a_, x.n);
    auto y = reserve_view<Vec<Fout>>(out_, x.n);
    fc1.forward(x, h);
    act.forward(h, a);
    fc2.forward(a, y);
    n_ = x.n;
    return y;
  }
  // The last forward's output.
  View<Vec<Fout>, T> output() const { return {out_.data(), n_}; }

  // dy is kept; dx may be empty (the conditioning inputs need no gradient).
  template <class In, class U, class V>
  void backward(View<In, U> x, View<Vec<Fout>, V> dy, View<In, T> dx, bool accumulate = false) {
    auto g = reserve_view<Vec<Fout>>(grad_, x.n);
    View<Vec<Fout>, T> h{h_.data(), x.n}, a{a_.data(), x.n};
    fc2.backward(a, dy, g);
    act.backward(h, g, g);
    fc1.backward(x, g, dx, accumulate);
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    fc1.visit(prefix + "0.", f);
    fc2.visit(prefix + "2.", f);
  }

 private:
  Storage<B> h_, a_, out_, grad_;
  int n_ = 0;
};

}  // namespace unetflow
