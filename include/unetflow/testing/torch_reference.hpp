#pragma once
// Reference tensors written by PyTorch (a .safetensors file: inputs, outputs, gradients and module states of a
// case), and the comparisons a parity test makes against them. For a layer of your own:
//   testing::TorchReference ref("my_layer.safetensors");   // made by your PyTorch script
//   ref.load_state(layer, "case");                          // case/state.<name> -> the layer's entries
//   auto x = ref.load<Shape<4, 8, 8>>("case/x");
//   ... forward, backward ...
//   double e = ref.error(y.data(), y.numel(), "case/y");    // testing::rel_error against the reference
//   for (const auto& m : ref.compare_state(layer, "case")) CHECK(m.error <= 1e-4);
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include "../backend/cpu.hpp"
#include "../error.hpp"
#include "../io/safetensors.hpp"
#include "../param.hpp"
#include "../tensor.hpp"
#include "compare.hpp"

namespace unetflow::testing {

class TorchReference {
 public:
  explicit TorchReference(const std::filesystem::path& file) : path_(file.string()), file_(safetensors::read(file)) {}

  const safetensors::TensorData& tensor(const std::string& name) const {
    const auto* t = file_.find(name);
    if (!t) throw Error(path_ + " holds no tensor " + name + ": regenerate it with the script that made it.");
    return *t;
  }
  bool has(const std::string& name) const { return file_.find(name) != nullptr; }
  std::vector<float> values(const std::string& name) const { return tensor(name).as<float>(); }
  double max_abs(const std::string& name) const {
    double m = 0;
    for (float v : values(name)) m = std::max(m, double(std::abs(v)));
    return m;
  }

  // The tensor as a batch of shape S on backend B (its first dimension is the batch).
  template <class S, class B = cpu>
  Tensor<S, B> load(const std::string& name) const {
    const auto& t = tensor(name);
    if (t.shape.empty() || t.numel() != t.shape[0] * S::size)
      throw Error(path_ + ": " + name + " is not a batch of " + std::to_string(S::size) + "-value samples.");
    Tensor<S, B> out(int(t.shape[0]));
    const auto v = t.as<typename B::scalar>();
    B::from_host(v.data(), out.data(), out.numel());
    return out;
  }

  // rel_error of `ours` against the tensor `name`.
  template <class T>
  double error(const T* ours, std::ptrdiff_t n, const std::string& name, double floor = 1e-6) const {
    const auto ref = values(name);
    if (std::ptrdiff_t(ref.size()) != n)
      throw Error(path_ + ": " + name + " holds " + std::to_string(ref.size()) + " values, ours " + std::to_string(n) +
                  ".");
    return rel_error(ours, ref.data(), n, floor);
  }

  // Sets every entry of a visitable module from PREFIX/state.<name> (the module's names are PyTorch's).
  template <class M>
  void load_state(M& m, const std::string& prefix) const {
    m.visit("", [&](const std::string& name, auto& e) {
      using E = std::decay_t<decltype(e)>;
      if constexpr (std::is_same_v<E, Counter>) {
        e.value = tensor(prefix + "/state." + name).template as<std::int64_t>().at(0);
      } else if constexpr (is_instance_v<E, Param> || is_instance_v<E, Buffer>) {
        const auto v = tensor(prefix + "/state." + name).template as<typename E::T>();
        if (std::ptrdiff_t(v.size()) != e.size)
          throw Error(path_ + ": " + prefix + "/state." + name + " has the wrong size.");
        e.from_host(v.data());
      }
    });
  }

  // One entry of compare_state: a parameter's gradient against PREFIX/grad.<name>, a buffer against
  // PREFIX/after.<name>, a counter (error 0 or 1: equal or not).
  struct Comparison {
    std::string name;
    double error;
  };
  // Parameter gradients are compared relative to at least 1% of the case's largest gradient: a gradient that is
  // zero in exact arithmetic (a bias before training-mode BatchNorm) is rounding noise on both sides.
  template <class M>
  std::vector<Comparison> compare_state(M& m, const std::string& prefix) const {
    double largest_grad = 0;
    m.visit("", [&](const std::string& name, auto& e) {
      if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>)
        largest_grad = std::max(largest_grad, max_abs(prefix + "/grad." + name));
    });
    std::vector<Comparison> out;
    m.visit("", [&](const std::string& name, auto& e) {
      using E = std::decay_t<decltype(e)>;
      if constexpr (is_instance_v<E, Param>) {
        const auto grad = gradient_on_host(e);
        out.push_back(
            {prefix + "/grad." + name, error(grad.data(), e.size, prefix + "/grad." + name, 1e-2 * largest_grad)});
      } else if constexpr (std::is_same_v<E, Counter>) {
        const bool same = e.value == tensor(prefix + "/after." + name).template as<std::int64_t>().at(0);
        out.push_back({prefix + "/after." + name, same ? 0.0 : 1.0});
      } else if constexpr (is_instance_v<E, Buffer>) {
        out.push_back({prefix + "/after." + name, error(e.to_host().data(), e.size, prefix + "/after." + name)});
      }
    });
    return out;
  }

 private:
  template <class B>
  static std::vector<typename B::scalar> gradient_on_host(const Param<B>& p) {
    std::vector<typename B::scalar> h(std::size_t(p.size));
    B::to_host(p.grad.data(), h.data(), p.size);
    return h;
  }
  std::string path_;
  safetensors::File file_;
};

}  // namespace unetflow::testing
