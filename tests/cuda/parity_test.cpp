// The CUDA backend against the CPU backend on the same state and inputs: every layer's forward and backward
// (training and evaluation mode), ResBlocks and a Sequential, a whole flow-matching training step with Adam, three steps in a row (the
// third one replayed from a CUDA Graph), classifier-free-guidance sampling, and the same with TF32 allowed.
#include "mirror.hpp"
#include "steps.hpp"

using namespace unetflow;
using mirror::host;
using mirror::check_layer;
using mirror::Input;

namespace {

using namespace mirror::layers;
template <class B> using ConvBnActBlock = Conv<6, 10, B>;
template <class B> using Groups = GroupNorm<6, 3, B>;

// BatchNorm2d with GELU fused into its pass.
void check_fused_batchnorm(bool training) {
  using S = Shape<6, 14, 14>;
  Rng rng(7, 2);
  BatchNorm2d<6, cpu> lc;
  BatchNorm2d<6, cuda> lg;
  reset_parameters(lc, rng);
  mirror::copy_state(lc, lg);
  set_training(lc, training);
  set_training(lg, training);
  Input<S> x(5, rng), dy(5, rng);
  Tensor<S, cpu> yc(5), dxc(5);
  Tensor<S, cuda> yg(5), dxg(5);
  lc.forward(x.c.view(), yc.view(), Activation::gelu);
  lg.forward(x.g.view(), yg.view(), Activation::gelu);
  EXPECT_CLOSE("BatchNorm2d+GELU forward", host(yc.view(), false), host(yg.view(), true));
  lc.backward_fused(x.c.view(), dy.c.view(), dxc.view(), Activation::gelu);
  lg.backward_fused(x.g.view(), dy.g.view(), dxg.view(), Activation::gelu);
  EXPECT_CLOSE("BatchNorm2d+GELU input gradient", host(dxc.view(), false), host(dxg.view(), true));
  mirror::expect_same_state(lc, lg, "BatchNorm2d+GELU");
}

// Modulate: y = h * scale + shift, and its three gradients.
void check_modulate() {
  using S = Shape<6, 7, 7>;
  Rng rng(7, 3);
  Input<S> h(4, rng), dy(4, rng);
  Input<Vec<6>> scale(4, rng), shift(4, rng);
  Modulate<cpu> mc;
  Modulate<cuda> mg;
  Tensor<S, cpu> yc(4), dhc(4);
  Tensor<S, cuda> yg(4), dhg(4);
  Tensor<Vec<6>, cpu> dsc(4), dbc(4);
  Tensor<Vec<6>, cuda> dsg(4), dbg(4);
  mc.forward(h.c.view(), scale.c.view(), shift.c.view(), yc.view());
  mg.forward(h.g.view(), scale.g.view(), shift.g.view(), yg.view());
  EXPECT_CLOSE("Modulate forward", host(yc.view(), false), host(yg.view(), true));
  mc.backward(h.c.view(), scale.c.view(), dy.c.view(), dhc.view(), dsc.view(), dbc.view());
  mg.backward(h.g.view(), scale.g.view(), dy.g.view(), dhg.view(), dsg.view(), dbg.view());
  EXPECT_CLOSE("Modulate dh", host(dhc.view(), false), host(dhg.view(), true));
  EXPECT_CLOSE("Modulate dscale", host(dsc.view(), false), host(dsg.view(), true));
  EXPECT_CLOSE("Modulate dshift", host(dbc.view(), false), host(dbg.view(), true));
}

// Residual blocks, attention at 8x8, the class and time at every level (models/res_unet.hpp).
template <class B>
using ResidualUNet = ResUNet<3, 16, 16, 8, Widths<1, 2>, TimeClassConditioned<10>, 8, 2, B>;

// Flow-matching steps with Adam on both backends (steps.hpp): step 1 eager, step 2 recorded, later ones replayed.
template <template <class> class Net = AssignmentUNet>
void check_training_steps(int steps) {
  mirror::check_training_steps<Net, FlowMatchingTask>({.steps = steps}, 0.1);
}

}  // namespace

void check_convolution_layers() {
  check_layer<Shape<6, 14, 14>, Conv3>("Conv2d 3x3");
  check_layer<Shape<6, 14, 14>, ConvDown>("Conv2d 3x3 stride 2");
  check_layer<Shape<6, 7, 7>, ConvUp>("ConvTranspose2d 4x4 stride 2");
  check_layer<Shape<6, 1, 1>, ConvUnflatten>("ConvTranspose2d 7x7 stride 7");
}

TEST_CASE("CUDA layers match the CPU backend, forward and backward") {
  check_convolution_layers();
  check_layer<Shape<6, 14, 14>, Norm>("BatchNorm2d (training)", {.training = true});
  check_layer<Shape<6, 14, 14>, Norm>("BatchNorm2d (evaluation)", {.training = false});
  check_layer<Shape<6, 7, 7>, Pool>("AvgPool2d 7");
  check_layer<Vec<12>, Dense>("Linear");
  check_layer<Shape<6, 5, 5>, Gelu>("GELU");
  check_layer<Shape<6, 7, 7>, Groups>("GroupNorm");
  check_fused_batchnorm(true);
  check_fused_batchnorm(false);
  check_modulate();
  mirror::expect_synchronised();
}

TEST_CASE("blocks: Conv+BatchNorm+GELU on CUDA matches the CPU backend, in training and evaluation mode") {
  Rng rng(7, 4);
  Conv<6, 10, cpu> bc;
  Conv<6, 10, cuda> bg;
  reset_parameters(bc, rng);
  mirror::copy_state(bc, bg);
  Input<Shape<6, 14, 14>> x(5, rng);
  auto yc = bc.forward(x.c.view());
  auto yg = bg.forward(x.g.view());
  EXPECT_CLOSE("ConvBnAct forward", host(yc, false), host(yg, true));
  Input<Shape<10, 14, 14>> dy(5, rng);
  Tensor<Shape<6, 14, 14>, cpu> dxc(5);
  Tensor<Shape<6, 14, 14>, cuda> dxg(5);
  bc.backward(x.c.view(), dy.c.view(), dxc.view());
  bg.backward(x.g.view(), dy.g.view(), dxg.view());
  EXPECT_CLOSE("ConvBnAct input gradient", host(dxc.view(), false), host(dxg.view(), true));
  mirror::expect_same_state(bc, bg, "ConvBnAct");
  // Then in evaluation mode, outside any recorded step, with the running statistics the training pass moved.
  x.draw(rng);
  set_training(bc, false);
  set_training(bg, false);
  EXPECT_CLOSE("ConvBnAct forward in evaluation mode", host(bc.forward(x.c.view()), false),
               host(bg.forward(x.g.view()), true));
  mirror::expect_synchronised();
}

namespace {
// Modules (module.hpp): forward(x) and backward(x, dy, dx), in training mode, on both backends.
template <class In, template <class> class M>
void check_module(const std::string& name) {
  using Out = typename M<cpu>::template output_shape<In>;
  CAPTURE(name);
  Rng rng(7, 5);
  auto mc = std::make_unique<M<cpu>>();
  auto mg = std::make_unique<M<cuda>>();
  reset_parameters(*mc, rng);
  mirror::copy_state(*mc, *mg);
  Input<In> x(5, rng);
  auto yc = mc->forward(x.c.view());
  auto yg = mg->forward(x.g.view());
  EXPECT_CLOSE(name + " forward", host(yc, false), host(yg, true));
  Input<Out> dy(5, rng);
  Tensor<In, cpu> dxc(5);
  Tensor<In, cuda> dxg(5);
  mc->backward(x.c.view(), dy.c.view(), dxc.view());
  mg->backward(x.g.view(), dy.g.view(), dxg.view());
  EXPECT_CLOSE(name + " input gradient", host(dxc.view(), false), host(dxg.view(), true));
  mirror::expect_same_state(*mc, *mg, name);
}
template <class B> using Res = ResBlock<6, 10, B>;
template <class B> using ResIdentity = ResBlock<6, 6, B>;
template <class B> using Stack = Sequential<ResBlock<6, 6, B>, DownConv<6, 10, B>, ToVector<B>, Linear<10 * 7 * 7, 4, B>>;
template <class B> using Attention = SelfAttention<6, 2, B>;
template <class B> using PlainResUNet = ResUNet<3, 16, 16, 8, Widths<1, 2>, Unconditioned, 8, 2, B>;
}  // namespace

TEST_CASE("modules: ResBlocks, SelfAttention and a Sequential on CUDA match the CPU backend") {
  check_module<Shape<6, 14, 14>, Res>("ResBlock with projection");
  check_module<Shape<6, 14, 14>, ResIdentity>("ResBlock with identity skip");
  check_module<Shape<6, 14, 14>, Stack>("Sequential of ResBlock, DownConv, ToVector, Linear");
  check_module<Shape<6, 7, 7>, Attention>("SelfAttention, 2 heads on 7x7");
  check_module<Shape<3, 16, 16>, PlainResUNet>("ResUNet from levels, attention at 8x8");
  mirror::expect_synchronised();
}

TEST_CASE("a class-conditioned residual UNet with attention (levels) trains on CUDA as on the CPU backend") {
  check_training_steps<ResidualUNet>(2);
  mirror::expect_synchronised();
}

TEST_CASE("a whole class-conditioned UNet training step on CUDA matches the CPU backend") {
  check_training_steps(1);
  mirror::expect_synchronised();
}

TEST_CASE("three steps in a row: the recorded (CUDA Graph) replay of the third matches the CPU backend") {
  check_training_steps(3);
  mirror::expect_synchronised();
}

TEST_CASE("the cuDNN convolution engine: layers and three recorded training steps match the CPU backend") {
  if (mirror::EngineScope engine(cuda::ConvEngine::cudnn); engine) {
    check_convolution_layers();
    check_training_steps(3);
  }
  mirror::expect_synchronised();
}

TEST_CASE("CFG sampling on CUDA matches the CPU backend") {
  using Model = AssignmentUNet<cpu>;
  using ModelG = AssignmentUNet<cuda>;
  Rng init(13, 1);
  auto mc = std::make_unique<Model>();
  auto mg = std::make_unique<ModelG>();
  reset_parameters(*mc, init);
  mirror::copy_state(*mc, *mg);
  FlowSampler<Model> sc;
  FlowSampler<ModelG> sg;
  const std::vector<int> labels{0, 3, 7, -1};
  Rng rc(13, 2), rg(13, 2);
  auto xc = sc.sample(*mc, labels, 5.0, 6, rc);
  auto xg = sg.sample(*mg, labels, 5.0, 6, rg);
  EXPECT_CLOSE("CFG samples after 6 Euler steps", host(xc, false), host(xg, true));
  mirror::expect_synchronised();
}

TEST_CASE("with TF32 allowed, layers and a UNet step stay within 1e-2 of the CPU backend on both convolution engines") {
  mirror::Tf32Scope tf32;
  check_training_steps(1);
  if (mirror::EngineScope engine(cuda::ConvEngine::cudnn); engine) {  // cuDNN's TF32 math, never FP16 conversion
    check_convolution_layers();
    check_training_steps(1);
  }
  mirror::expect_synchronised();
}

TEST_CASE("a recorded step records again after a device allocation or free, instead of replaying stale pointers") {
  using ModelG = AssignmentUNet<cuda>;
  using In = typename ModelG::In;
  auto mg = std::make_unique<ModelG>();
  Rng init(5, 1), data(5, 2), noise(5, 3);
  reset_parameters(*mg, init);
  FlowMatchingTask<ModelG> task(0.1);
  Tensor<In, cuda> x(8);
  fill_uniform(x, data, 0.0, 1.0);
  std::vector<std::uint8_t> labels(8, 3);
  const auto& graph = task.graph().statistics();
  auto step = [&] {
    const double loss = task.step(*mg, x.view(), labels.data(), noise);
    CHECK(std::isfinite(loss));
  };
  step();  // eager
  step();  // recorded
  step();  // replayed
  auto elsewhere = std::make_unique<Tensor<In, cuda>>(64);  // an allocation: buffers may have moved
  step();  // eager
  step();  // recorded
  step();  // replayed
  elsewhere.reset();  // a free: a recording that used that memory must not run again
  step();  // eager
  step();  // recorded
  if (std::getenv("UNETFLOW_CUDA_GRAPHS") == nullptr) {
    CHECK(graph.eager == 3);
    CHECK(graph.recorded == 3);
    CHECK(graph.replayed == 2);
  }
  CHECK(graph.failed == 0);
  mirror::expect_synchronised();
}
