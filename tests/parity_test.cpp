// Forward output, input gradient, every parameter gradient and the running statistics of each layer, block and
// UNet against PyTorch (fixtures from tests/fixtures/make_fixtures.py), in training and in evaluation mode.
#include "fixture.hpp"
#include "test_util.hpp"

using namespace unetflow;
using fixture::load;
using fixture::load_state;

namespace {

using fixture::check_block;
using fixture::check_layer;
using fixture::modes;

template <class Model>
void check_model(const std::string& name) {
  using In = typename Model::In;
  for (const char* mode : modes) {
    const std::string c = name + mode;
    SUBCASE(c.c_str()) {
      auto model = std::make_unique<Model>();
      load_state(*model, c);
      set_training(*model, std::string(mode) == "_train");
      auto x = load<In>(c + "/x");
      View<In, float> y;
      // The inputs must outlive backward: the model reads them again there.
      Tensor<typename Model::TimeIn, cpu> t;
      Tensor<typename Model::ClassIn, cpu> cl;
      if constexpr (Model::classes > 0) {
        t = load<typename Model::TimeIn>(c + "/t");
        cl = load<typename Model::ClassIn>(c + "/c");
        y = model->forward(x.view(), t.view(), cl.view());
      } else if constexpr (Model::time_conditioned) {
        t = load<typename Model::TimeIn>(c + "/t");
        y = model->forward(x.view(), t.view());
      } else {
        y = model->forward(x.view());
      }
      EXPECT_MATCHES(y.data, y.numel(), c + "/y");
      auto dy = load<In>(c + "/dy");
      Tensor<In, cpu> dx(x.n());
      model->backward(dy.view(), dx.view());
      EXPECT_MATCHES(dx.data(), dx.numel(), c + "/dx");
      fixture::check_state_after(*model, c);
    }
  }
}

}  // namespace

TEST_CASE("layers match PyTorch") {
  check_layer<Shape<3, 6, 6>, Shape<4, 6, 6>, Conv2d<3, 4, 3, 1, 1>>("conv2d");
  check_layer<Shape<3, 7, 7>, Shape<4, 4, 4>, Conv2d<3, 4, 3, 2, 1>>("conv2d_s2");
  check_layer<Shape<4, 3, 3>, Shape<3, 6, 6>, ConvTranspose2d<4, 3, 4, 2, 1>>("conv_transpose2d");
  check_layer<Shape<4, 1, 1>, Shape<4, 7, 7>, ConvTranspose2d<4, 4, 7, 7, 0>>("conv_transpose2d_k7");
  check_layer<Shape<4, 5, 5>, Shape<4, 5, 5>, BatchNorm2d<4>>("batchnorm2d");
  check_layer<Shape<2, 4, 4>, Shape<2, 4, 4>, GELU<>>("gelu");
  check_layer<Shape<2, 7, 7>, Shape<2, 1, 1>, AvgPool2d<7>>("avgpool2d");
  check_layer<Vec<5>, Vec<6>, Linear<5, 6>>("linear");
}

TEST_CASE("blocks match PyTorch") {
  check_block<Shape<3, 6, 6>, Conv<3, 4>>("conv");
  check_block<Shape<3, 6, 6>, DownConv<3, 4>>("down_conv");
  check_block<Shape<4, 3, 3>, UpConv<4, 3>>("up_conv");
  check_block<Shape<4, 7, 7>, Flatten<4>>("flatten");
  check_block<Vec<4>, Unflatten<4>>("unflatten");
  check_block<Shape<3, 6, 6>, ConvBlock<3, 4>>("conv_block");
  check_block<Shape<3, 6, 6>, DownBlock<3, 4>>("down_block");
  check_block<Shape<4, 3, 3>, UpBlock<4, 3>>("up_block");
  check_block<Vec<2>, FCBlock<2, 5>>("fc_block");
}

TEST_CASE("UNets match PyTorch (D = 8, batch 3)") {
  check_model<UNet<1, 28, 28, 8>>("unet");
  check_model<TimeUNet<1, 28, 28, 8>>("time_unet");
  check_model<ClassTimeUNet<1, 28, 28, 8, 10>>("class_time_unet");
}

TEST_CASE("conditioning broadcast matches PyTorch") {
  using S = Shape<4, 3, 3>;
  auto h = load<S>("modulate/h");
  auto scale = load<Vec<4>>("modulate/scale"), shift = load<Vec<4>>("modulate/shift");
  auto dy = load<S>("modulate/dy");
  const int n = h.n();
  Tensor<S, cpu> y(n), dh(n);
  Tensor<Vec<4>, cpu> dscale(n), dshift(n);
  Modulate<> mod;
  mod.forward(h.view(), scale.view(), shift.view(), y.view());
  mod.backward(h.view(), scale.view(), dy.view(), dh.view(), dscale.view(), dshift.view());
  EXPECT_MATCHES(y.data(), y.numel(), "modulate/y");
  EXPECT_MATCHES(dh.data(), dh.numel(), "modulate/dh");
  EXPECT_MATCHES(dscale.data(), dscale.numel(), "modulate/dscale");
  EXPECT_MATCHES(dshift.data(), dshift.numel(), "modulate/dshift");
}

TEST_CASE("MSE loss matches PyTorch") {
  using S = Shape<1, 4, 4>;
  auto pred = load<S>("mse/pred"), target = load<S>("mse/target");
  Tensor<S, cpu> grad(pred.n());
  const float loss = float(mse_loss<cpu>(pred.view(), target.view(), grad.view()));
  EXPECT_MATCHES(&loss, 1, "mse/loss");
  EXPECT_MATCHES(grad.data(), grad.numel(), "mse/dpred");
}

TEST_CASE("cross-entropy matches PyTorch") {
  auto logits = load<Vec<10>>("cross_entropy/logits");
  const auto l = fixture::tensor("cross_entropy/labels").as<std::int64_t>();
  std::vector<std::uint8_t> labels(l.begin(), l.end());
  Tensor<Vec<10>, cpu> grad(logits.n());
  const float loss = float(cross_entropy<cpu>(logits.view(), labels.data(), grad.view()));
  EXPECT_MATCHES(&loss, 1, "cross_entropy/loss");
  EXPECT_MATCHES(grad.data(), grad.numel(), "cross_entropy/dlogits");
}

TEST_CASE("Adam and ExponentialLR match PyTorch") {
  test_util::SingleParam m({5, 4});
  m.p.from_host(fixture::values("adam/p0").data());
  Adam<cpu> adam(m, {.lr = 1e-2});
  ExponentialLR sched(adam, std::pow(0.1, 1.0 / 10));
  for (int step = 1; step <= 2; ++step) {
    m.p.grad.reserve(20);
    const auto g = fixture::values("adam/g" + std::to_string(step));
    std::copy(g.begin(), g.end(), m.p.grad.data());
    adam.step();
    EXPECT_MATCHES(m.p.data(), 20, "adam/p" + std::to_string(step));
  }
  adam.visit("", [&](const std::string& name, auto& e) {
    if constexpr (std::is_same_v<std::decay_t<decltype(e)>, Buffer<cpu>>) {
      const std::string which = name.substr(name.rfind('.') + 1);
      EXPECT_MATCHES(e.data(), e.size, "adam/" + which);
    }
  });
  const auto lrs = fixture::tensor("exponential_lr/lrs").as<double>();
  for (double expected : lrs) {
    sched.step();
    CHECK(sched.lr() == doctest::Approx(expected).epsilon(1e-12));
  }
}
