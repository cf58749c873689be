#pragma once
// Helpers of the CUDA parity suite: the same module on both backends with the same state, the same random
// inputs on both, and the comparison rule max |cuda - cpu| <= tol * max |cpu|.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <unetflow/backend/cuda.hpp>
#include <unetflow/testing/compare.hpp>
#include <unetflow/unetflow.hpp>
#include <vector>

namespace mirror {

using namespace unetflow;

// The small layers and the model the suites check (template <class Backend>).
namespace layers {
template <class B> using Conv3 = Conv2d<6, 10, 3, 1, 1, B>;
template <class B> using ConvDown = Conv2d<6, 10, 3, 2, 1, B>;
template <class B> using ConvUp = ConvTranspose2d<6, 10, 4, 2, 1, B>;
template <class B> using ConvUnflatten = ConvTranspose2d<6, 6, 7, 7, 0, B>;
template <class B> using Norm = BatchNorm2d<6, B>;
template <class B> using Pool = AvgPool2d<7, B>;
template <class B> using Dense = Linear<12, 20, B>;
template <class B> using Gelu = GELU<B>;
template <class B> using AssignmentUNet = ClassTimeUNet<1, 28, 28, 8, 10, B>;
}  // namespace layers

inline double tolerance() { return cuda::tf32() ? 1e-2 : 1e-4; }

// max |b - a| / max(max |a|, floor): a is the CPU's result, the reference.
inline double rel_error(const std::vector<float>& a, const std::vector<float>& b, double floor = 1e-6) {
  REQUIRE(a.size() == b.size());
  return testing::rel_error(b, a, floor);
}

#define EXPECT_CLOSE(what, a, b, ...)                                            \
  do {                                                                           \
    const double e_ = mirror::rel_error(a, b __VA_OPT__(, ) __VA_ARGS__);        \
    INFO((what) << ": relative max error " << e_ << " (tolerance " << mirror::tolerance() << ")"); \
    CHECK(e_ <= mirror::tolerance());                                            \
  } while (0)

template <class S, class T>
std::vector<float> host(View<S, T> v, bool on_cuda) {
  return on_cuda ? download<cuda>(v) : download<cpu>(v);
}

// n random samples of shape S on both backends.
template <class S>
struct Input {
  Tensor<S, cpu> c;
  Tensor<S, cuda> g;
  Input(int n, Rng& rng, double lo = -1, double hi = 1) : c(n), g(n) { draw(rng, lo, hi); }
  // New values in the same memory (a recorded step keeps its addresses).
  void draw(Rng& rng, double lo = -1, double hi = 1) {
    std::vector<float> v(std::size_t(c.numel()));
    rng.fill_uniform(v.data(), std::ptrdiff_t(v.size()), lo, hi);
    cpu::from_host(v.data(), c.data(), c.numel());
    cuda::from_host(v.data(), g.data(), g.numel());
  }
};

// The same values in host memory (for the CPU policy) and in device memory: primitives called on plain buffers.
struct Both {
  std::vector<float> c;
  float* g = nullptr;
  Both(std::size_t n, Rng& rng, double lo = -1, double hi = 1) : c(n) {
    rng.fill_uniform(c.data(), std::ptrdiff_t(n), lo, hi);
    g = cuda::allocate<float>(std::ptrdiff_t(n));
    cuda::from_host(c.data(), g, std::ptrdiff_t(n));
  }
  Both(const Both&) = delete;
  Both& operator=(const Both&) = delete;
  ~Both() { cuda::deallocate(g); }
  void set(const std::vector<float>& v) {
    c = v;
    cuda::from_host(c.data(), g, std::ptrdiff_t(c.size()));
  }
  std::vector<float> device() const {
    std::vector<float> h(c.size());
    cuda::to_host(g, h.data(), std::ptrdiff_t(h.size()));
    cuda::synchronize();
    return h;
  }
};

// Copies every entry of `from` (cpu) into `to` (the same module on cuda).
template <class A, class B>
void copy_state(A& from, B& to) {
  safetensors::File f;
  detail::add_part(f, part("", from));
  detail::load_part(f, part("", to));
}

// Every parameter gradient (floor: 1% of the largest, as in the PyTorch parity) and every buffer.
template <class A, class B>
void expect_same_state(A& c, B& g, const std::string& what) {
  std::map<std::string, std::vector<float>> grads, values;
  double largest_grad = 0;
  c.visit("", [&](const std::string& name, auto& e) {
    using E = std::decay_t<decltype(e)>;
    if constexpr (is_instance_v<E, Param>) {
      std::vector<float> h(std::size_t(e.size));
      cpu::to_host(e.grad.data(), h.data(), e.size);
      for (float v : h) largest_grad = std::max(largest_grad, double(std::abs(v)));
      grads[name] = std::move(h);
    }
    if constexpr (is_instance_v<E, Param> || is_instance_v<E, Buffer>) values[name] = e.to_host();
  });
  g.visit("", [&](const std::string& name, auto& e) {
    using E = std::decay_t<decltype(e)>;
    if constexpr (is_instance_v<E, Param>) {
      std::vector<float> h(std::size_t(e.size));
      cuda::to_host(e.grad.data(), h.data(), e.size);
      EXPECT_CLOSE(what + ": gradient of " + name, grads.at(name), h, 1e-2 * largest_grad);
    }
    if constexpr (is_instance_v<E, Param> || is_instance_v<E, Buffer>)
      EXPECT_CLOSE(what + ": " + name, values.at(name), e.to_host());
  });
}

// The convolution engine for a scope (set back also when a check throws); false where the build has no cuDNN.
class EngineScope {
 public:
  explicit EngineScope(cuda::ConvEngine engine) : saved_(cuda::conv_engine()) {
    active_ = engine != cuda::ConvEngine::cudnn || cuda::has_cudnn();
    if (active_) cuda::set_conv_engine(engine);
    else MESSAGE("skipped: this build has no cuDNN engine");
  }
  EngineScope(const EngineScope&) = delete;
  EngineScope& operator=(const EngineScope&) = delete;
  ~EngineScope() { cuda::set_conv_engine(saved_); }
  explicit operator bool() const { return active_; }

 private:
  cuda::ConvEngine saved_;
  bool active_ = false;
};

// TF32 allowed for a scope (the looser tolerance() with it), set back also when a check throws.
class Tf32Scope {
 public:
  Tf32Scope() { cuda::set_tf32(true); }
  Tf32Scope(const Tf32Scope&) = delete;
  Tf32Scope& operator=(const Tf32Scope&) = delete;
  ~Tf32Scope() { cuda::set_tf32(false); }
};

// The end of every test case: a fault of an asynchronous kernel surfaces here, in the case that caused it.
inline void expect_synchronised() { CHECK_NOTHROW(cuda::synchronize()); }

// Values of sample j of n equal-sized samples.
inline std::vector<float> sample_of(const std::vector<float>& all, int n, int j) {
  const std::size_t each = all.size() / std::size_t(n);
  return {all.begin() + std::ptrdiff_t(each * j), all.begin() + std::ptrdiff_t(each * (j + 1))};
}

struct LayerCase {
  int n = 5;              // batch size
  bool training = true;   // the layer's mode
  bool accumulate = false;  // backward adds to a dx that holds random values
  std::vector<int> samples = {};  // also compared one by one (tile edges)
};

// A layer on both backends with the same state and inputs: forward(x, y), then backward(x, dy, dx[, accumulate]),
// outputs, input gradients, parameter gradients and buffers compared.
template <class In, template <class> class Layer>
void check_layer(const std::string& name, LayerCase options = {}) {
  using Out = typename Layer<cpu>::template output_shape<In>;
  CAPTURE(name);
  CAPTURE(options.n);
  Rng rng(7, 1);
  auto lc = std::make_unique<Layer<cpu>>();
  auto lg = std::make_unique<Layer<cuda>>();
  reset_parameters(*lc, rng);
  copy_state(*lc, *lg);
  set_training(*lc, options.training);
  set_training(*lg, options.training);
  const int n = options.n;
  Input<In> x(n, rng);
  Tensor<Out, cpu> yc(n);
  Tensor<Out, cuda> yg(n);
  lc->forward(x.c.view(), yc.view());
  lg->forward(x.g.view(), yg.view());
  const auto yh = host(yc.view(), false), yd = host(yg.view(), true);
  EXPECT_CLOSE(name + " forward", yh, yd);
  for (int j : options.samples) EXPECT_CLOSE(name + " forward, sample " + std::to_string(j), sample_of(yh, n, j), sample_of(yd, n, j));
  Input<Out> dy(n, rng);
  Input<In> dx(n, rng);  // random: kept and added to with accumulate, overwritten without
  lc->backward(x.c.view(), dy.c.view(), dx.c.view(), options.accumulate);
  lg->backward(x.g.view(), dy.g.view(), dx.g.view(), options.accumulate);
  const auto dh = host(dx.c.view(), false), dd = host(dx.g.view(), true);
  EXPECT_CLOSE(name + " input gradient", dh, dd);
  for (int j : options.samples)
    EXPECT_CLOSE(name + " input gradient, sample " + std::to_string(j), sample_of(dh, n, j), sample_of(dd, n, j));
  expect_same_state(*lc, *lg, name);
  expect_synchronised();
}

}  // namespace mirror
