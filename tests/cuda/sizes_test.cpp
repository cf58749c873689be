// The CUDA backend at the assignment's real sizes and on the paths the small cases miss: convolutions whose batch
// spans several column tiles (compared sample by sample at the tile edges), the backward passes that add to an
// input gradient (accumulate), and an evaluation-mode UNet forward outside any recorded step; the convolutions
// also on the cuDNN engine. Also: MSE without a gradient, softmax rows longer than a block (attention at 16x16 and
// 32x32 has rows of 256 and 1024), GroupNorm over more samples than the small cases' 5.
#include "mirror.hpp"

using namespace unetflow;
using mirror::check_layer;
using mirror::host;
using mirror::Input;

namespace {
template <class B> using Conv128 = Conv2d<128, 128, 3, 1, 1, B>;
template <class B> using Up256 = ConvTranspose2d<256, 128, 4, 2, 1, B>;
using namespace mirror::layers;

// conv.cu unfolds as many samples per GEMM as fit 64M floats of columns.
constexpr int column_tile(int ci, int k, int ho, int wo) {
  return int((std::ptrdiff_t(1) << 26) / (std::ptrdiff_t(ci) * k * k * ho * wo));
}

void check_conv128() {
  constexpr int tile = column_tile(128, 3, 28, 28);
  static_assert(tile == 74);  // tiles of 74 and 6 samples
  check_layer<Shape<128, 28, 28>, Conv128>("Conv2d<128, 128, 3, 1, 1>", {.n = 80, .samples = {0, tile - 1, tile, 79}});
}
void check_up256() {
  // The transposed convolution runs the data gradient of the convolution 128 x 14 x 14 -> 256 x 7 x 7.
  constexpr int tile = column_tile(128, 4, 7, 7);
  static_assert(tile == 668);  // tiles of 668 and 32 samples
  check_layer<Shape<256, 7, 7>, Up256>("ConvTranspose2d<256, 128, 4, 2, 1>", {.n = 700, .samples = {0, tile - 1, tile, 699}});
}
void check_accumulating_convolutions() {
  check_layer<Shape<6, 14, 14>, Conv3>("Conv2d 3x3, accumulating", {.accumulate = true});
  check_layer<Shape<6, 7, 7>, ConvUp>("ConvTranspose2d 4x4 stride 2, accumulating", {.accumulate = true});
}
}  // namespace

TEST_CASE("Conv2d 128 to 128 at 28x28 over 80 samples (two column tiles) matches the CPU backend") { check_conv128(); }

TEST_CASE("ConvTranspose2d 256 to 128 from 7x7 over 700 samples (two column tiles) matches the CPU backend") {
  check_up256();
}

TEST_CASE("the cuDNN convolution engine at the real sizes and accumulating matches the CPU backend") {
  if (mirror::EngineScope engine(cuda::ConvEngine::cudnn); engine) {
    check_conv128();
    check_up256();
    check_accumulating_convolutions();
  }
  mirror::expect_synchronised();
}

TEST_CASE("backward passes that add to the input gradient (accumulate) match the CPU backend") {
  check_accumulating_convolutions();
  check_layer<Shape<6, 14, 14>, Pool>("AvgPool2d 7, accumulating", {.accumulate = true});
  check_layer<Shape<6, 14, 14>, Norm>("BatchNorm2d, accumulating", {.accumulate = true});
  check_layer<Shape<6, 5, 5>, Gelu>("GELU, accumulating", {.accumulate = true});
  check_layer<Vec<12>, Dense>("Linear, accumulating", {.accumulate = true});
}

TEST_CASE("an evaluation-mode UNet forward outside any recorded step matches the CPU backend") {
  // (A block's evaluation-mode forward: parity_test.cpp's block case.)
  Rng rng(17, 1);
  auto mc = std::make_unique<AssignmentUNet<cpu>>();
  auto mg = std::make_unique<AssignmentUNet<cuda>>();
  reset_parameters(*mc, rng);
  mirror::copy_state(*mc, *mg);
  using In = AssignmentUNet<cpu>::In;
  Input<In> x(12, rng, 0, 1);
  Input<Vec<1>> t(12, rng, 0, 1);
  Input<Vec<10>> c(12, rng, 0, 1);
  mc->forward(x.c.view(), t.c.view(), c.c.view());  // training mode: moves the running statistics
  mg->forward(x.g.view(), t.g.view(), c.g.view());
  x.draw(rng, 0, 1);
  set_training(*mc, false);
  set_training(*mg, false);
  EXPECT_CLOSE("UNet forward in evaluation mode", host(mc->forward(x.c.view(), t.c.view(), c.c.view()), false),
               host(mg->forward(x.g.view(), t.g.view(), c.g.view()), true));
  mirror::expect_synchronised();
}

TEST_CASE("MSE without a gradient (grad.data null) on CUDA gives the CPU policy's loss and writes no gradient") {
  Rng rng(23, 1);
  const int n = 9;
  const std::ptrdiff_t len = 2 * 28 * 28;
  mirror::Both x(std::size_t(n * len), rng), y(std::size_t(n * len), rng);
  double loss_c = 0;
  double* loss_device = cuda::allocate<double>(1);
  cpu::mse({x.c.data(), len}, {y.c.data(), len}, {nullptr, len}, n, len, &loss_c);
  cuda::mse({x.g, len}, {y.g, len}, {nullptr, len}, n, len, loss_device);
  const double loss_g = cuda::read(loss_device);
  cuda::deallocate(loss_device);
  CHECK(std::abs(loss_c - loss_g) <= 1e-5 * std::abs(loss_c));
  mirror::expect_synchronised();
}

TEST_CASE("softmax rows of 100, 256, 257 and 1024 values (attention up to 32x32) on CUDA match the CPU policy") {
  Rng rng(23, 2);
  for (std::ptrdiff_t len : {100, 256, 257, 1024}) {
    CAPTURE(len);
    const std::ptrdiff_t rows = 37;
    mirror::Both a(std::size_t(rows * len), rng, -4, 4), g(std::size_t(rows * len), rng);
    cpu::softmax_rows(a.c.data(), rows, len);
    cuda::softmax_rows(a.g, rows, len);
    EXPECT_CLOSE("softmax rows of " + std::to_string(len), a.c, a.device());
    cpu::softmax_backward_rows(a.c.data(), g.c.data(), rows, len);
    cuda::softmax_backward_rows(a.g, g.g, rows, len);
    EXPECT_CLOSE("softmax backward rows of " + std::to_string(len), g.c, g.device());
  }
  mirror::expect_synchronised();
}

namespace {
template <class B> using Groups16 = GroupNorm<16, 4, B>;
}
TEST_CASE("GroupNorm over 33 samples at 14x14 on CUDA matches the CPU backend") {
  check_layer<Shape<16, 14, 14>, Groups16>("GroupNorm<16, 4>, 33 samples", {.n = 33, .samples = {0, 32}});
}
