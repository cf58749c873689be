#pragma once
// ImageClassifier<In, Classes, W>: a small classifier made of the library's own blocks, used to score generated
// images (accuracy on the requested class, class spread, Frechet distance of its penultimate features), for any
// input C x H x W. DigitClassifier<W> is the MNIST one:
//   Conv(C, W) HxW -> DownConv(W, 2W) H/2 -> DownConv(2W, 2W) H/4 -> flatten -> Linear(2W*(H/4)*(W/4), 4W) -> GELU
//   = features -> Linear(4W, Classes) logits
// The head sees the whole H/4 x W/4 map (not its average), so the position of strokes counts. A Sequential inside.
#include <string>

#include "../backend/cpu.hpp"  // the default backend of the models
#include "../blocks/chain.hpp"
#include "../blocks/sequential.hpp"
#include "../layers/activation.hpp"
#include "../layers/linear.hpp"
#include "../layers/reshape.hpp"

namespace unetflow {

template <class Input, int Classes, int W = 32, class B = cpu>
class ImageClassifier {
 public:
  using backend = B;
  using T = typename B::scalar;
  using In = Input;
  static constexpr int classes = Classes, feature_size = 4 * W;
  using Features = Vec<feature_size>;
  using Logits = Vec<Classes>;

  // The map the head flattens: two stride-2 halvings of the input.
  using Map = Shape<2 * W, conv_out(conv_out(In::H, 3, 2, 1), 3, 2, 1), conv_out(conv_out(In::W, 3, 2, 1), 3, 2, 1)>;
  using Net = Sequential<Conv<In::C, W, B>, DownConv<W, 2 * W, B>, DownConv<2 * W, 2 * W, B>, ToVector<B>,
                         Linear<int(Map::size), feature_size, B>, GELU<B>, Linear<feature_size, Classes, B>>;
  static_assert(std::is_same_v<typename Net::template shape_at<In, 3>, Map>);
  Net net;

  template <class S>
  using output_shape = Logits;
  template <class S>
  static constexpr bool accepts = std::is_same_v<S, In>;

  View<Logits, T> forward(View<In, const T> x) {
    x_ = x;
    return net.forward(x);
  }
  // The penultimate features of the last forward (the last Linear's input).
  View<Features, const T> features() const { return net.template input<6, In>(); }

  // Parameter gradients for the last forward, given dL/dlogits; dx receives dL/dx when it is given.
  void backward(View<Logits, const T> dy, View<In, T> dx = {}, bool accumulate = false) {
    net.backward(x_, dy, dx, accumulate);
  }
  void backward(View<In, const T> x, View<Logits, T> dy, View<In, T> dx, bool accumulate = false) {
    net.backward(x, dy, dx, accumulate);
  }

  // The classifier's checkpoint names (c1, d1, d2, fc1, fc), kept from before it was a Sequential.
  template <class F>
  void visit(const std::string& prefix, F&& f) {
    net.template get<0>().visit(prefix + "c1.", f);
    net.template get<1>().visit(prefix + "d1.", f);
    net.template get<2>().visit(prefix + "d2.", f);
    net.template get<4>().visit(prefix + "fc1.", f);
    net.template get<6>().visit(prefix + "fc.", f);
  }

 private:
  View<In, const T> x_;
};

template <int W = 32, class B = cpu>
using DigitClassifier = ImageClassifier<Shape<1, 28, 28>, 10, W, B>;

}  // namespace unetflow
