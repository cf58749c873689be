// Each CASE is a shape mistake that must not compile; tests/CMakeLists.txt compiles this file once per case and
// checks that the compiler's output carries our static_assert message. CASE 0 is the control: it must compile.
#include <unetflow/blocks/sequential.hpp>
#include <unetflow/layers/embedding.hpp>
#include <unetflow/layers/layernorm.hpp>
#include <unetflow/layers/maxpool2d.hpp>
#include <unetflow/layers/reshape.hpp>
#include <unetflow/layers/upsample.hpp>
#include <unetflow/models/res_unet.hpp>  // the blocks and layers too, without the I/O and training headers
#include <unetflow/models/unet.hpp>

using namespace unetflow;

int main() {
  Tensor<Shape<4, 28, 28>, cpu> x(2);
#if CASE == 0
  DownBlock<4, 8> block;
  View<Shape<8, 14, 14>, float> y = block.forward(x.view());
  Concat<> cat;
  auto both = cat.forward(y, y);
  static_assert(std::is_same_v<decltype(both)::shape, Shape<16, 14, 14>>);
  UNet<1, 28, 28, 4> unet;
  (void)unet;
  TimeUNet<3, 32, 32, 4> colour;  // CIFAR-sized: the bottleneck is 8x8
  (void)colour;
  Sequential<Conv<4, 8>, DownConv<8, 8>, ToVector<>, Linear<8 * 14 * 14, 10>> seq;
  View<Vec<10>, float> logits = seq.forward(x.view());
  (void)logits;
  PlainUNet<1, 32, 32, 4, Widths<1, 2, 4>, TimeConditioned> deeper;
  (void)deeper;
  ResUNet<3, 32, 32, 4, Widths<1, 2, 2>, TimeClassConditioned<10>, 8, 2> residual;
  (void)residual;
#elif CASE == 1  // a wrong channel count into a block: 4 channels into a block made for 8
  DownBlock<8, 16> block;
  block.forward(x.view());
#elif CASE == 2  // a concatenation of maps with different heights and widths
  Tensor<Shape<4, 14, 14>, cpu> small(2);
  Concat<> cat;
  cat.forward(x.view(), small.view());
#elif CASE == 3  // a UNet on 30x30 images: 30 does not divide by 4 (two halvings)
  UNet<1, 30, 30, 4> unet;
  Tensor<Shape<1, 30, 30>, cpu> image(2);
  unet.forward(image.view());
#elif CASE == 4  // an FCBlock whose width does not match the channel count of the map it modulates
  FCBlock<1, 16> fc;
  Tensor<Vec<1>, cpu> t(2);
  auto scale = fc.forward(t.view());
  Tensor<Shape<8, 7, 7>, cpu> h(2), out(2);
  Modulate<> modulate;
  modulate.forward(h.view(), scale, View<Vec<16>, float>{}, out.view());
#elif CASE == 5  // a layer fed the wrong channel count
  Conv2d<3, 8, 3, 1, 1> conv;
  Tensor<Shape<8, 28, 28>, cpu> y(2);
  conv.forward(x.view(), y.view());
#elif CASE == 6  // a Sequential that forgets the flatten between its convolutions and its Linear
  Sequential<Conv<4, 8>, DownConv<8, 8>, Linear<8 * 14 * 14, 10>> seq;
  seq.forward(x.view());
#elif CASE == 7  // a missing argument to a time-conditioned UNet's forward
  TimeUNet<4, 28, 28, 4> unet;
  unet.forward(x.view());
#elif CASE == 8  // a UNet level whose up module cannot take the concatenation: 8 + 8 channels into an UpBlock for 8
  LeveledUNet<Shape<4, 28, 28>, UNetLevel<DownBlock<4, 8>, UNetBottleneck<8, 14>, UpBlock<8, 4>>, Conv2d<4, 4, 3, 1, 1>> net;
  net.forward(x.view());
#elif CASE == 9  // three halvings of 28x28: 28 does not divide by 8
  PlainUNet<1, 28, 28, 4, Widths<1, 2, 4>> deep;
  (void)deep;
#elif CASE == 10  // a 2x2 max pooling of a 7x7 map: 7 does not halve
  MaxPool2d<2> pool;
  Tensor<Shape<4, 7, 7>, cpu> odd(2);
  pool.forward(odd.view());
#elif CASE == 11  // up-sampling 28x28 to 60x60: 60 is not a whole multiple of 28
  UpsampleTo<60, 60> up;
  Tensor<Shape<4, 60, 60>, cpu> big(2);
  up.forward(x.view(), big.view());
#elif CASE == 12  // an Embedding fed a map instead of one class index per sample
  Embedding<10, 8> embed;
  embed.forward(x.view());
#elif CASE == 13  // a LayerNorm over a shape that is neither the input's nor its last dimension
  LayerNorm<Shape<4, 14, 14>> norm;
  norm.forward(x.view());
#endif
  return 0;
}
