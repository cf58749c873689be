#pragma once
// Access to the PyTorch fixtures (tests/fixtures/parity.safetensors, made by make_fixtures.py) and the
// comparison rule: max |ours - torch| <= tol * max |torch|, tol = 1e-4 for fp32.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <unetflow/unetflow.hpp>
#include <vector>

namespace fixture {

using namespace unetflow;

inline const safetensors::File& file() {
  static const safetensors::File f = safetensors::read(UNETFLOW_FIXTURE_DIR "/parity.safetensors");
  return f;
}
inline const safetensors::TensorData& tensor(const std::string& name) {
  const auto* t = file().find(name);
  if (!t) FAIL("fixture tensor " << name << " is missing: regenerate with tests/fixtures/make_fixtures.py");
  return *t;
}
inline std::vector<float> values(const std::string& name) { return tensor(name).as<float>(); }
inline int batch(const std::string& name) { return int(tensor(name).shape.at(0)); }

template <class S, class B = cpu>
Tensor<S, B> load(const std::string& name) {
  const auto& t = tensor(name);
  Tensor<S, B> out(int(t.shape.at(0)));
  const auto v = t.as<typename B::scalar>();
  REQUIRE(std::ptrdiff_t(v.size()) == out.numel());
  B::from_host(v.data(), out.data(), out.numel());
  return out;
}

// Max-abs error of `ours` against the fixture tensor `name`, relative to the tensor's max magnitude, or to
// `floor` when that is larger. Parameter gradients use as floor 1% of the largest parameter gradient of the
// case: a gradient that is zero in exact arithmetic (the bias of a convolution followed by training-mode batch
// norm) is pure rounding noise and cannot be compared to itself; it is held to 1e-6 of the case's largest
// gradient instead. PyTorch's own noise there reaches 8e-7 of the largest gradient (class_time_unet_train,
// c0.1.0.bias); ours is about 1e-8 (BatchNorm's backward and the bias sums work in double), so what this check
// sees there is the fixture's noise.
inline double max_abs(const std::string& name) {
  double m = 0;
  for (float v : values(name)) m = std::max(m, double(std::abs(v)));
  return m;
}
inline double rel_error(const float* ours, std::ptrdiff_t n, const std::string& name, double floor = 1e-6) {
  const auto ref = values(name);
  REQUIRE(std::ptrdiff_t(ref.size()) == n);
  double err = 0, mag = 0;
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    err = std::max(err, double(std::abs(ours[i] - ref[i])));
    mag = std::max(mag, double(std::abs(ref[i])));
  }
  return err / std::max(mag, floor);
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
  m.visit("", [&](const std::string& name, auto& e) {
    using E = std::decay_t<decltype(e)>;
    if constexpr (std::is_same_v<E, Counter>) {
      e.value = tensor(c + "/state." + name).template as<std::int64_t>().at(0);
    } else if constexpr (!std::is_same_v<E, Mode>) {
      const auto v = tensor(c + "/state." + name).template as<float>();
      REQUIRE(std::ptrdiff_t(v.size()) == e.size);
      e.from_host(v.data());
    }
  });
}

// Compares every parameter gradient with NAME/grad.* and every buffer with NAME/after.*.
template <class M>
void check_state_after(M& m, const std::string& c) {
  double largest_grad = 0;
  m.visit("", [&](const std::string& name, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) largest_grad = std::max(largest_grad, max_abs(c + "/grad." + name));
  });
  m.visit("", [&](const std::string& name, auto& e) {
    using E = std::decay_t<decltype(e)>;
    if constexpr (is_instance_v<E, Param>) {
      EXPECT_MATCHES(e.grad.data(), e.size, c + "/grad." + name, 1e-2 * largest_grad);
    } else if constexpr (std::is_same_v<E, Counter>) {
      CHECK(e.value == tensor(c + "/after." + name).template as<std::int64_t>().at(0));
    } else if constexpr (!std::is_same_v<E, Mode>) {
      EXPECT_MATCHES(e.data(), e.size, c + "/after." + name);
    }
  });
}

}  // namespace fixture
