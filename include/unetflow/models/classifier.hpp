#pragma once
// DigitClassifier: a small MNIST classifier made of the library's own blocks, used to score generated digits
// (accuracy on the requested class, class spread, Frechet distance of its penultimate features).
//   Conv(1, W) 28x28 -> DownConv(W, 2W) 14x14 -> DownConv(2W, 2W) 7x7 -> flatten -> Linear(2W*49, 4W) -> GELU
//   = features -> Linear(4W, 10) logits
// The head sees the whole 7x7 map (not its average), so the position of strokes counts.
#include <string>

#include "../blocks/chain.hpp"
#include "../layers/gelu.hpp"
#include "../layers/linear.hpp"

namespace unetflow {

template <int W = 32, class B = cpu>
class DigitClassifier {
 public:
  using backend = B;
  using T = typename B::scalar;
  using In = Shape<1, 28, 28>;
  static constexpr int feature_size = 4 * W;
  using Features = Vec<feature_size>;
  using Logits = Vec<10>;

  Conv<1, W, B> c1;
  DownConv<W, 2 * W, B> d1;
  DownConv<2 * W, 2 * W, B> d2;
  using H1 = typename decltype(c1)::template output_shape<In>;
  using H2 = typename decltype(d1)::template output_shape<H1>;
  using H3 = typename decltype(d2)::template output_shape<H2>;
  static_assert(std::is_same_v<H3, Shape<2 * W, 7, 7>>);
  Linear<H3::size, feature_size, B> fc1;
  GELU<B> gelu;
  Linear<feature_size, 10, B> fc;

  View<Logits, T> forward(View<In, const T> x) {
    x_ = x;
    h1_ = c1.forward(x);
    h2_ = d1.forward(h1_);
    h3_ = d2.forward(h2_);
    auto pre = reserve_view<Features>(pre_, x.n);
    features_ = reserve_view<Features>(features_store_, x.n);
    fc1.forward(as_vector(h3_), pre);
    gelu.forward(pre, features_);
    auto y = reserve_view<Logits>(logits_, x.n);
    fc.forward(features_, y);
    return y;
  }
  // The penultimate features of the last forward.
  View<Features, T> features() const { return features_; }

  // Parameter gradients for the last forward, given dL/dlogits; dx receives dL/dx when it is given.
  void backward(View<Logits, const T> dy, View<In, T> dx = {}) {
    const int n = x_.n;
    auto df = reserve_view<Features>(g_features_, n);
    auto d3 = reserve_view<H3>(g3_, n);
    auto d2v = reserve_view<H2>(g2_, n);
    auto d1v = reserve_view<H1>(g1_, n);
    fc.backward(features_, dy, df);
    gelu.backward(View<Features, T>{pre_.data(), n}, df, df);
    fc1.backward(as_vector(h3_), df, as_vector(d3));
    d2.backward(h2_, d3, d2v);
    d1.backward(h1_, d2v, d1v);
    c1.backward(x_, d1v, dx);
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    c1.visit(prefix + "c1.", f);
    d1.visit(prefix + "d1.", f);
    d2.visit(prefix + "d2.", f);
    fc1.visit(prefix + "fc1.", f);
    fc.visit(prefix + "fc.", f);
  }

 private:
  View<In, const T> x_;
  View<H1, T> h1_;
  View<H2, T> h2_;
  View<H3, T> h3_;
  View<Features, T> features_;
  Storage<B> pre_, features_store_, logits_, g_features_, g3_, g2_, g1_;
};

// The training objective for Trainer: cross-entropy on the labels.
template <class Model>
class ClassificationTask {
 public:
  using B = typename Model::backend;
  using T = typename B::scalar;
  double step(Model& m, View<typename Model::In, const T> x, const std::uint8_t* labels, Rng&) {
    auto logits = m.forward(x);
    auto g = grad_.resize(x.n);
    const double loss = cross_entropy<B>(logits, labels, g);
    m.backward(g);
    return loss;
  }

 private:
  Tensor<typename Model::Logits, B> grad_;
};

}  // namespace unetflow
