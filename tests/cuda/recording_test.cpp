// Recorded steps at the assignment's real sizes and on the paths the small cases miss: the denoiser's training
// step at D=128 and batch 32 (eager, recorded with its blend, replayed), the unconditional sampler's recorded model
// evaluation, recordings that fail (the step allocates or waits for the host) and must give the eager result, and
// convolutions writing into channel slices of a concatenation at real widths, on both engines.
#include <array>
#include <memory>
#include <string>

#include "mirror.hpp"
#include "steps.hpp"

using namespace unetflow;
using mirror::Both;
using mirror::host;
using mirror::Input;

namespace {

template <class B> using DenoiserD128 = UNet<1, 28, 28, 128, B>;
template <class B> using SmallTimeUNet = TimeUNet<1, 28, 28, 8, B>;
template <class B> using Conv128 = Conv2d<128, 128, 3, 1, 1, B>;
template <class B> using Up256 = ConvTranspose2d<256, 128, 4, 2, 1, B>;

// A layer whose output (and whose input gradient) is channels [at, at + C) of a map of Wide channels, as the UNet's
// up path writes into its concatenation: the slice is compared, and the channels around it must keep their values.
template <class In, template <class> class Layer, int Wide>
void check_into_slice(const std::string& name, int n, int at) {
  using Out = typename Layer<cpu>::template output_shape<In>;
  using WideOut = Shape<Wide, Out::H, Out::W>;
  using WideIn = Shape<Wide, In::H, In::W>;
  static_assert(Out::C <= Wide && In::C <= Wide);
  CAPTURE(name);
  CAPTURE(at);
  Rng rng(43, 1);
  auto lc = std::make_unique<Layer<cpu>>();
  auto lg = std::make_unique<Layer<cuda>>();
  reset_parameters(*lc, rng);
  mirror::copy_state(*lc, *lg);
  Input<In> x(n, rng);
  Input<WideOut> y(n, rng);
  const auto y_before = host(y.c.view(), false);
  const std::ptrdiff_t out_at = std::ptrdiff_t(at) * Out::plane;
  lc->forward(x.c.view(), View<Out, float>{y.c.data() + out_at, n, WideOut::size});
  lg->forward(x.g.view(), View<Out, float>{y.g.data() + out_at, n, WideOut::size});
  const auto yc = host(y.c.view(), false);
  EXPECT_CLOSE(name + " forward into the slice", yc, host(y.g.view(), true));
  long moved = 0;  // values outside the slice the CPU side changed (the GPU side is compared with it above)
  for (std::size_t i = 0; i < yc.size(); ++i) {
    const std::ptrdiff_t in_sample = std::ptrdiff_t(i) % WideOut::size;
    if ((in_sample < out_at || in_sample >= out_at + Out::size) && yc[i] != y_before[i]) ++moved;
  }
  CHECK(moved == 0);
  const std::ptrdiff_t in_at = std::ptrdiff_t(at) * In::plane;
  for (bool accumulate : {false, true}) {
    CAPTURE(accumulate);
    Input<WideIn> dx(n, rng);
    lc->backward(x.c.view(), View<Out, const float>{y.c.data() + out_at, n, WideOut::size},
                 View<In, float>{dx.c.data() + in_at, n, WideIn::size}, accumulate);
    lg->backward(x.g.view(), View<Out, const float>{y.g.data() + out_at, n, WideOut::size},
                 View<In, float>{dx.g.data() + in_at, n, WideIn::size}, accumulate);
    EXPECT_CLOSE(name + " input gradient into the slice", host(dx.c.view(), false), host(dx.g.view(), true));
    mirror::expect_same_state(*lc, *lg, name);
  }
  mirror::expect_synchronised();
}

void check_slices() {
  // The up path at D=128: a convolution's 128 channels after the skip's 128 in a map of 256 (over 80 samples: two
  // column tiles), and the first up-sampling's 128 channels before the skip's.
  check_into_slice<Shape<128, 28, 28>, Conv128, 256>("Conv2d<128, 128, 3, 1, 1> into channels 128-255 of 256", 80, 128);
  check_into_slice<Shape<256, 7, 7>, Up256, 384>("ConvTranspose2d<256, 128, 4, 2, 1> into channels 0-127 of 384", 32, 0);
}

}  // namespace

TEST_CASE("a denoiser step at the real size (D=128, batch 32) on CUDA matches the CPU backend: eager, recorded with its blend, replayed") {
  mirror::check_training_steps<DenoiserD128, DenoiseTask>({.steps = 3, .n = 32}, 0.5, false);
  mirror::expect_synchronised();
}

TEST_CASE("the unconditional sampler records its model evaluation once, replays it every later step, and matches the CPU backend") {
  Rng init(47, 1);
  auto mc = std::make_unique<SmallTimeUNet<cpu>>();
  auto mg = std::make_unique<SmallTimeUNet<cuda>>();
  reset_parameters(*mc, init);
  mirror::copy_state(*mc, *mg);
  FlowSampler<SmallTimeUNet<cpu>> sc;
  FlowSampler<SmallTimeUNet<cuda>> sg;
  long evaluations = 0;
  // Heun first: its two stage buffers are allocated before its first evaluation, and Euler needs no new one after it
  for (Solver solver : {Solver::heun, Solver::euler}) {
    CAPTURE(int(solver));
    sc.solver = sg.solver = solver;
    Rng rc(47, 2), rg(47, 2);
    auto xc = sc.sample(*mc, 6, 8, rc);
    auto xg = sg.sample(*mg, 6, 8, rg);
    EXPECT_CLOSE("unconditional samples after 8 steps", host(xc, false), host(xg, true));
    evaluations += 8 * evaluations_per_step(solver);
  }
  const auto& graph = sg.graph().statistics();
  INFO("graph: " << graph.eager << " eager, " << graph.recorded << " recorded, " << graph.replayed << " replayed");
  CHECK(graph.failed == 0);
  if (std::getenv("UNETFLOW_CUDA_GRAPHS") == nullptr) {
    // the same point buffer, model and modes throughout: one eager run, one recording, replays for the rest
    CHECK(graph.eager == 1);
    CHECK(graph.recorded == 1);
    CHECK(graph.replayed == evaluations - 2);
  }
  mirror::expect_synchronised();
}

TEST_CASE("a recording that fails (the step allocates, or waits for the host) falls back to eager runs with the eager result") {
  Rng rng(41, 1);
  constexpr std::ptrdiff_t len = 5000;
  for (bool waits : {false, true}) {
    CAPTURE(waits);
    Both x(len, rng), y(len, rng);
    cuda::Graph graph;
    float* grown = nullptr;
    int ran = 0;
    // y = y / 2 + 2 x on every run; the second run is the one recorded
    auto step = [&] {
      if (++ran == 2) {
        if (waits) cuda::synchronize();
        else grown = cuda::allocate<float>(len);
      }
      cuda::blend(y.g, x.g, len, 0.5f, 2.0f);
    };
    for (int call = 0; call < 4; ++call) {
      CAPTURE(call);
      CHECK_NOTHROW(graph.run({std::uintptr_t(len), std::uintptr_t(y.g)}, step));  // no stale error after the failure
      cpu::blend(y.c.data(), x.c.data(), len, 0.5f, 2.0f);
      EXPECT_CLOSE("y after the call", y.c, y.device());
    }
    const auto& s = graph.statistics();
    CHECK(s.failed == (std::getenv("UNETFLOW_CUDA_GRAPHS") == nullptr ? 1 : 0));
    CHECK(s.recorded == 0);
    CHECK(s.replayed == 0);
    CHECK(s.eager == 4);
    cuda::deallocate(grown);
  }
  mirror::expect_synchronised();
}

TEST_CASE("a UNet evaluation whose recording grows a scratch buffer falls back and gives the CPU backend's output") {
  Rng init(53, 1);
  auto mc = std::make_unique<SmallTimeUNet<cpu>>();
  auto mg = std::make_unique<SmallTimeUNet<cuda>>();
  reset_parameters(*mc, init);
  mirror::copy_state(*mc, *mg);
  set_training(*mc, false);
  set_training(*mg, false);
  using In = SmallTimeUNet<cpu>::In;
  Input<In> x(6, init, -1, 1);
  Input<Vec<1>> t(6, init, 0, 1);
  cuda::Graph graph;
  int ran = 0;
  const float* out = nullptr;
  for (int call = 0; call < 3; ++call) {
    CAPTURE(call);
    x.draw(init);  // new values in the same memory
    graph.run({key_of(x.g.data()), key_of(mg.get())}, [&] {
      // the recorded run asks for more scratch than any layer has: the slot grows, which allocates
      if (++ran == 2) cuda::scratch(cuda::Use::activations, cuda::max_slots - 1, std::ptrdiff_t(1) << 22);
      out = mg->forward(x.g.view(), t.g.view()).data;
    });
    const auto yc = host(mc->forward(x.c.view(), t.c.view()), false);
    EXPECT_CLOSE("UNet output", yc, host(View<In, const float>{out, 6, In::size}, true));
  }
  CHECK(graph.statistics().recorded == 0);
  mirror::expect_synchronised();
}

TEST_CASE("convolutions writing into channel slices of a concatenation at real widths match the CPU backend, on both engines") {
  check_slices();
  if (mirror::EngineScope engine(cuda::ConvEngine::cudnn); engine) check_slices();
  mirror::expect_synchronised();
}

TEST_CASE("copy_rows and add_rows on strided rows match the CPU policy and leave the gaps alone") {
  Rng rng(59, 1);
  const int n = 37;
  const std::ptrdiff_t len = 1000, xs = 1013, ys = 1210;
  Both x(std::size_t(n * xs), rng), y(std::size_t(n * ys), rng);
  cpu::copy_rows({x.c.data(), xs}, {y.c.data(), ys}, n, len);
  cuda::copy_rows({x.g, xs}, {y.g, ys}, n, len);
  EXPECT_CLOSE("copy_rows", y.c, y.device());
  cpu::add_rows({x.c.data(), xs}, {y.c.data(), ys}, n, len);
  cuda::add_rows({x.g, xs}, {y.g, ys}, n, len);
  EXPECT_CLOSE("add_rows", y.c, y.device());
  mirror::expect_synchronised();
}
