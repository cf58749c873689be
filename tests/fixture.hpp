#pragma once
// Access to the PyTorch fixtures (tests/fixtures/parity.safetensors, made by make_fixtures.py) through the public
// helper testing::TorchReference, and the comparison rule: max |ours - torch| <= tol * max |torch|, tol = 1e-4.
// Parameter gradients use as floor 1% of the largest parameter gradient of the case: a gradient that is zero in
// exact arithmetic (the bias of a convolution followed by training-mode batch norm) is pure rounding noise and
// cannot be compared to itself. PyTorch's own noise there reaches 8e-7 of the largest gradient
// (class_time_unet_train, c0.1.0.bias); ours is about 1e-8 (BatchNorm's backward and the bias sums work in double).
#include <doctest/doctest.h>

#include <string>
#include <unetflow/testing/torch_reference.hpp>
#include <unetflow/unetflow.hpp>
#include <vector>

namespace fixture {

using namespace unetflow;

inline const testing::TorchReference& file() {
  static const testing::TorchReference f(UNETFLOW_FIXTURE_DIR "/parity.safetensors");
  return f;
}
inline const safetensors::TensorData& tensor(const std::string& name) { return file().tensor(name); }
inline std::vector<float> values(const std::string& name) { return file().values(name); }
inline int batch(const std::string& name) { return int(tensor(name).shape.at(0)); }

template <class S, class B = cpu>
Tensor<S, B> load(const std::string& name) {
  return file().load<S, B>(name);
}

inline double max_abs(const std::string& name) { return file().max_abs(name); }
inline double rel_error(const float* ours, std::ptrdiff_t n, const std::string& name, double floor = 1e-6) {
  return file().error(ours, n, name, floor);
}
constexpr double tolerance = 1e-4;

#define EXPECT_MATCHES(ptr, n, name, ...)                                      \
  do {                                                                         \
    const double e_ = fixture::rel_error(ptr, n, name __VA_OPT__(, ) __VA_ARGS__); \
    INFO("tensor " << (name) << ": relative max error " << e_);                \
    CHECK(e_ <= fixture::tolerance);                                           \
  } while (0)

// Sets a module's state from NAME/state.* (the module's visit names must equal PyTorch's state_dict keys).
template <class M>
void load_state(M& m, const std::string& c) {
  file().load_state(m, c);
}

// Compares every parameter gradient with NAME/grad.*, every buffer with NAME/after.*, every counter exactly.
template <class M>
void check_state_after(M& m, const std::string& c) {
  for (const auto& entry : file().compare_state(m, c)) {
    INFO("tensor " << entry.name << ": relative max error " << entry.error);
    CHECK(entry.error <= tolerance);
  }
}

// The cases NAME_train and NAME_eval of a layer (forward(x, y), backward(x, dy, dx)) or a block (y = forward(x)):
// output, input gradient, parameter gradients and buffers after. setup(module) runs before the state is loaded.
struct NoSetup {
  template <class M>
  void operator()(M&) const {}
};

inline const char* const modes[] = {"_train", "_eval"};

// Layers: forward(x, y), backward(x, dy, dx).
template <class In, class Out, class Layer, class Setup = NoSetup>
void check_layer(const std::string& name, Setup setup = {}) {
  for (const char* mode : modes) {
    const std::string c = name + mode;
    SUBCASE(c.c_str()) {
      Layer layer;
      setup(layer);
      load_state(layer, c);
      set_training(layer, std::string(mode) == "_train");
      auto x = load<In>(c + "/x");
      Tensor<Out, cpu> y(x.n());
      layer.forward(x.view(), y.view());
      EXPECT_MATCHES(y.data(), y.numel(), c + "/y");
      auto dy = load<Out>(c + "/dy");
      Tensor<In, cpu> dx(x.n());
      layer.backward(x.view(), dy.view(), dx.view());
      EXPECT_MATCHES(dx.data(), dx.numel(), c + "/dx");
      fixture::check_state_after(layer, c);
    }
  }
}

// Blocks: y = forward(x), backward(x, dy, dx).
template <class In, class Block, class Setup = NoSetup>
void check_block(const std::string& name, Setup setup = {}) {
  using Out = typename Block::template output_shape<In>;
  for (const char* mode : modes) {
    const std::string c = name + mode;
    SUBCASE(c.c_str()) {
      Block block;
      setup(block);
      load_state(block, c);
      set_training(block, std::string(mode) == "_train");
      auto x = load<In>(c + "/x");
      auto y = block.forward(x.view());
      EXPECT_MATCHES(y.data, y.numel(), c + "/y");
      auto dy = load<Out>(c + "/dy");
      Tensor<In, cpu> dx(x.n());
      block.backward(x.view(), dy.view(), dx.view());
      EXPECT_MATCHES(dx.data(), dx.numel(), c + "/dx");
      fixture::check_state_after(block, c);
    }
  }
}

}  // namespace fixture
