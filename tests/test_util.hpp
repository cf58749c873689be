#pragma once
// Small helpers the test files share.
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <unetflow/error.hpp>
#include <unetflow/backend/cpu.hpp>
#include <unetflow/data/mnist.hpp>
#include <unetflow/param.hpp>
#include <unetflow/random.hpp>

namespace test_util {

// A fresh, empty directory under the system's temporary directory, unique to this process and name.
inline std::filesystem::path temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("unetflow_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// The message of the unetflow::Error that f throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const unetflow::Error& e) {
    return e.what();
  }
  return "(no error)";
}

// n 28x28 images of uniform noise in [0, 1) from `seed`, all of class 0.
inline unetflow::ImageSet noise_images(int n, std::uint64_t seed) {
  unetflow::ImageSet set;
  set.n = n;
  set.height = set.width = 28;
  set.images.resize(std::size_t(n) * 784);
  set.labels.assign(std::size_t(n), 0);
  unetflow::Rng(seed).fill_uniform(set.images.data(), std::ptrdiff_t(set.images.size()));
  return set;
}

// n grey 28x28 images of one value, all of class 0 (trainer tests that need a set, not its content).
inline unetflow::ImageSet constant_images(int n, float value = 0.5f) {
  unetflow::ImageSet set;
  set.n = n;
  set.height = set.width = 28;
  set.images.assign(std::size_t(n) * 784, value);
  set.labels.assign(std::size_t(n), 0);
  return set;
}

// A module of one parameter named "p" (optimiser and weight-averaging tests).
struct SingleParam {
  unetflow::Param<unetflow::cpu> p;
  explicit SingleParam(std::vector<std::int64_t> dims) : p(std::move(dims), 0.0, 0.0f) {}
  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "p", p);
  }
};

}  // namespace test_util
