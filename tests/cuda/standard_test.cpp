// The primitives and layers of the standard set on CUDA against the CPU policy: every activation (alone and fused
// after BatchNorm), max pooling with ties (the arg-max routing), up-sampling, plane means, dropout's masks bit for
// bit, embeddings, log-softmax over rows longer than a block, the element-wise losses, the optimisers' updates and
// the squared norm, and the layers built on them (LayerNorm, Dropout, a ReLU ConvBn block).
#include <array>
#include <cmath>

#include "mirror.hpp"

using namespace unetflow;
using mirror::check_layer;
using mirror::host;
using mirror::Both;
using mirror::Input;

namespace {


template <class B> using Relu = ReLU<B>;
template <class B> using Silu = SiLU<B>;
template <class B> using Soft = Softplus<B>;
template <class B> using Pool2 = MaxPool2d<2, 2, 0, B>;
template <class B> using Pool3 = MaxPool2d<3, 2, 1, B>;
template <class B> using UpNearest = Upsample<2, UpsampleMode::nearest, B>;
template <class B> using UpBilinear = Upsample<2, UpsampleMode::bilinear, B>;
template <class B> using UpBilinear3 = Upsample<3, UpsampleMode::bilinear, B>;
template <class B> using GlobalPool = AdaptiveAvgPool2d<B>;
template <class B> using NormMap = LayerNorm<Shape<6, 7, 7>, B>;
template <class B> using NormLast = LayerNorm<Vec<7>, B>;
template <class B> using LogProbs = LogSoftmax<B>;

}  // namespace

TEST_CASE("CUDA: the activations, alone and after BatchNorm, match the CPU policy") {
  Rng rng(31, 1);
  const int n = 5;
  const std::ptrdiff_t len = 300, stride = 317;  // rows of a wider map: only len values each are touched
  for (Activation act : {Activation(Activation::gelu), Activation(Activation::relu),
                         Activation(Activation::leaky_relu, 0.2f), Activation(Activation::silu),
                         Activation(Activation::tanh), Activation(Activation::sigmoid), Activation(Activation::softplus)}) {
    CAPTURE(int(act.kind));
    Both x(std::size_t(n * stride), rng, -25, 25), y(std::size_t(n * stride), rng), g(std::size_t(n * stride), rng);
    cpu::activation_forward({x.c.data(), stride}, {y.c.data(), stride}, n, len, act);
    cuda::activation_forward({x.g, stride}, {y.g, stride}, n, len, act);
    EXPECT_CLOSE("activation_forward", y.c, y.device());
    cpu::activation_backward({x.c.data(), stride}, {g.c.data(), stride}, n, len, act);
    cuda::activation_backward({x.g, stride}, {g.g, stride}, n, len, act);
    EXPECT_CLOSE("activation_backward", g.c, g.device());
  }
  check_layer<Shape<6, 5, 5>, Relu>("ReLU");
  check_layer<Shape<6, 5, 5>, Silu>("SiLU");
  check_layer<Shape<6, 5, 5>, Soft>("Softplus", {.accumulate = true});
  mirror::expect_synchronised();
}

TEST_CASE("CUDA: max pooling routes gradients to the same arg-max as the CPU policy, ties included") {
  Rng rng(31, 2);
  const int n = 4, C = 3, h = 9, w = 9;
  for (auto [k, s, p] : {std::array{2, 2, 0}, std::array{3, 2, 1}, std::array{3, 1, 1}}) {
    CAPTURE(k);
    CAPTURE(s);
    const int ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1;
    const std::ptrdiff_t xs = C * h * w + 7, ys = C * ho * wo + 3;
    Both x(std::size_t(n * xs), rng), y(std::size_t(n * ys), rng), dy(std::size_t(n * ys), rng);
    std::vector<float> ties = x.c;
    for (float& v : ties) v = std::round(v * 2) / 2;  // five levels: windows with equal maxima
    x.set(ties);
    cpu::maxpool_forward({x.c.data(), xs}, {y.c.data(), ys}, n, C, h, w, k, s, p);
    cuda::maxpool_forward({x.g, xs}, {y.g, ys}, n, C, h, w, k, s, p);
    CHECK(y.c == y.device());
    for (bool accumulate : {false, true}) {
      Both dx(std::size_t(n * xs), rng);
      cpu::maxpool_backward({x.c.data(), xs}, {dy.c.data(), ys}, {dx.c.data(), xs}, n, C, h, w, k, s, p, accumulate);
      cuda::maxpool_backward({x.g, xs}, {dy.g, ys}, {dx.g, xs}, n, C, h, w, k, s, p, accumulate);
      EXPECT_CLOSE("maxpool_backward", dx.c, dx.device());
    }
  }
  check_layer<Shape<6, 8, 8>, Pool2>("MaxPool2d 2");
  check_layer<Shape<6, 7, 7>, Pool3>("MaxPool2d 3 stride 2 padding 1", {.accumulate = true});
  mirror::expect_synchronised();
}

TEST_CASE("CUDA: up-sampling, plane means, LayerNorm and log-softmax match the CPU policy") {
  check_layer<Shape<6, 5, 7>, UpNearest>("Upsample nearest");
  check_layer<Shape<6, 5, 7>, UpBilinear>("Upsample bilinear");
  check_layer<Shape<6, 4, 4>, UpBilinear3>("Upsample bilinear x3", {.accumulate = true});
  check_layer<Shape<6, 5, 7>, GlobalPool>("AdaptiveAvgPool2d");
  check_layer<Shape<6, 7, 7>, NormMap>("LayerNorm over C x H x W");
  check_layer<Shape<6, 7, 7>, NormLast>("LayerNorm over the last dimension");
  check_layer<Vec<10>, LogProbs>("LogSoftmax");
  Rng rng(31, 3);
  const std::ptrdiff_t rows = 6, len = 1000;  // rows longer than a block of threads
  Both x(std::size_t(rows * len), rng, -5, 5), y(std::size_t(rows * len), rng), g(std::size_t(rows * len), rng);
  cpu::log_softmax_rows(x.c.data(), y.c.data(), rows, len);
  cuda::log_softmax_rows(x.g, y.g, rows, len);
  EXPECT_CLOSE("log_softmax_rows (1000 per row)", y.c, y.device());
  cpu::log_softmax_backward_rows(y.c.data(), g.c.data(), rows, len);
  cuda::log_softmax_backward_rows(y.g, g.g, rows, len);
  EXPECT_CLOSE("log_softmax_backward_rows (1000 per row)", g.c, g.device());
  mirror::expect_synchronised();
}

TEST_CASE("CUDA: dropout masks are the CPU policy's bit for bit, and Dropout layers agree") {
  Rng rng(31, 4);
  const std::ptrdiff_t len = 300007;
  for (double p : {0.0, 0.1, 0.5, 0.9, 1.0}) {
    CAPTURE(p);
    Both m(std::size_t(len), rng);
    cpu::dropout_mask(m.c.data(), len, p, 987654321ull, 17);
    cuda::dropout_mask(m.g, len, p, 987654321ull, 17);
    CHECK(m.c == m.device());
  }
  using S = Shape<6, 5, 5>;
  Input<S> x(4, rng), dy(4, rng);
  auto same = [&](auto& lc, auto& lg, const char* what) {
    lc.stream.seed.value = lg.stream.seed.value = 4242;
    Tensor<S, cpu> yc(4), dxc(4);
    Tensor<S, cuda> yg(4), dxg(4);
    lc.forward(x.c.view(), yc.view());
    lg.forward(x.g.view(), yg.view());
    CHECK(host(yc.view(), false) == host(yg.view(), true));
    lc.backward(x.c.view(), dy.c.view(), dxc.view());
    lg.backward(x.g.view(), dy.g.view(), dxg.view());
    INFO(what);
    CHECK(host(dxc.view(), false) == host(dxg.view(), true));
  };
  Dropout<cpu> dc(0.3);
  Dropout<cuda> dg(0.3);
  same(dc, dg, "Dropout");
  Dropout2d<cpu> d2c(0.3);
  Dropout2d<cuda> d2g(0.3);
  same(d2c, d2g, "Dropout2d");
  mirror::expect_synchronised();
}

TEST_CASE("CUDA: embeddings, element-wise losses, optimiser updates and the squared norm match the CPU policy") {
  Rng rng(31, 5);
  const int n = 9, dim = 6, rows = 4;
  Both index(std::size_t(n), rng), weight(std::size_t(rows * dim), rng), y(std::size_t(n * (dim + 2)), rng);
  std::vector<float> idx(static_cast<std::size_t>(n));
  for (int s = 0; s < n; ++s) idx[std::size_t(s)] = float((s * 7) % rows);  // rows chosen several times
  index.set(idx);
  cpu::embedding_forward(index.c.data(), weight.c.data(), {y.c.data(), dim + 2}, n, dim);
  cuda::embedding_forward(index.g, weight.g, {y.g, dim + 2}, n, dim);
  EXPECT_CLOSE("embedding_forward", y.c, y.device());
  cpu::embedding_backward(index.c.data(), {y.c.data(), dim + 2}, weight.c.data(), n, dim, rows);
  cuda::embedding_backward(index.g, {y.g, dim + 2}, weight.g, n, dim, rows);
  EXPECT_CLOSE("embedding_backward", weight.c, weight.device());

  const int m = 7;
  const std::ptrdiff_t len = 75;
  Both pred(std::size_t(m * len), rng, 0.02, 0.98), target(std::size_t(m * len), rng, 0, 1), grad(std::size_t(m * len), rng);
  double* loss_device = cuda::allocate<double>(1);
  for (ElementLoss kind : {ElementLoss::l1, ElementLoss::smooth_l1, ElementLoss::bce_with_logits, ElementLoss::bce}) {
    CAPTURE(int(kind));
    double loss_c = 0;
    cpu::elementwise_loss(kind, {pred.c.data(), len}, {target.c.data(), len}, {grad.c.data(), len}, m, len, 0.3,
                          1.0 / (m * len), &loss_c);
    cuda::elementwise_loss(kind, {pred.g, len}, {target.g, len}, {grad.g, len}, m, len, 0.3, 1.0 / (m * len),
                           loss_device);
    CHECK(std::abs(loss_c - cuda::read(loss_device)) <= 1e-6 * std::abs(loss_c));
    EXPECT_CLOSE("elementwise_loss gradient", grad.c, grad.device());
  }

  const std::ptrdiff_t plen = 1000;
  Both p(plen, rng), a(plen, rng, 0, 0), b(plen, rng, 0, 0), c(plen, rng, 0, 0);
  for (int step = 1; step <= 5; ++step) {
    Both g(plen, rng);
    cpu::sgd_update(p.c.data(), g.c.data(), a.c.data(), plen, 0.1, 0.9, 0.1, 1e-2, step % 2 == 0, step == 1);
    cuda::sgd_update(p.g, g.g, a.g, plen, 0.1, 0.9, 0.1, 1e-2, step % 2 == 0, step == 1);
    cpu::rmsprop_update(p.c.data(), g.c.data(), b.c.data(), c.c.data(), a.c.data(), plen, 1e-2, 0.99, 1e-8, 1e-3, 0.5,
                        true);
    cuda::rmsprop_update(p.g, g.g, b.g, c.g, a.g, plen, 1e-2, 0.99, 1e-8, 1e-3, 0.5, true);
    cpu::adadelta_update(p.c.data(), g.c.data(), b.c.data(), c.c.data(), plen, 1.0, 0.9, 1e-6, 1e-3);
    cuda::adadelta_update(p.g, g.g, b.g, c.g, plen, 1.0, 0.9, 1e-6, 1e-3);
  }
  EXPECT_CLOSE("SGD, RMSprop and Adadelta parameters", p.c, p.device());
  EXPECT_CLOSE("their state", b.c, b.device());
  double sum_c = 0;
  cpu::sum_squares(p.c.data(), plen, &sum_c, false);
  cpu::sum_squares(a.c.data(), plen, &sum_c, true);
  cuda::sum_squares(p.g, plen, loss_device, false);
  cuda::sum_squares(a.g, plen, loss_device, true);
  CHECK(std::abs(sum_c - cuda::read(loss_device)) <= 1e-6 * sum_c);
  cuda::deallocate(loss_device);
  mirror::expect_synchronised();
}

TEST_CASE("CUDA: a ReLU ConvBn block matches the CPU backend in training and evaluation mode") {
  using S = Shape<6, 14, 14>;
  for (bool training : {true, false}) {
    CAPTURE(training);
    Rng rng(31, 6);
    Conv<6, 10, cpu, ReLU> bc;
    Conv<6, 10, cuda, ReLU> bg;
    reset_parameters(bc, rng);
    mirror::copy_state(bc, bg);
    set_training(bc, training);
    set_training(bg, training);
    Input<S> x(5, rng);
    Input<Shape<10, 14, 14>> dy(5, rng);
    EXPECT_CLOSE("Conv ReLU forward", host(bc.forward(x.c.view()), false), host(bg.forward(x.g.view()), true));
    Tensor<S, cpu> dxc(5);
    Tensor<S, cuda> dxg(5);
    bc.backward(x.c.view(), dy.c.view(), dxc.view());
    bg.backward(x.g.view(), dy.g.view(), dxg.view());
    EXPECT_CLOSE("Conv ReLU input gradient", host(dxc.view(), false), host(dxg.view(), true));
    mirror::expect_same_state(bc, bg, "Conv ReLU");
  }
}
