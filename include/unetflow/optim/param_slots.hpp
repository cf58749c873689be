#pragma once
// What the optimisers share: one slot per parameter of a model (its name, the parameter, its state buffers), and
// the rule of which parameters are weight-decayed.
#include <array>
#include <deque>
#include <string>
#include <vector>

#include "../param.hpp"

namespace unetflow {

// Which parameters an optimiser decays. By default, all (PyTorch's behaviour); the usual exclusion of biases and
// normalisation parameters is WeightDecayRule::biases_and_norms(): a parameter whose name ends in "bias" or whose
// tensor is one-dimensional (BatchNorm, GroupNorm and vector LayerNorm scales), or whose name contains one of
// `excluded` (say "norm." for LayerNorms over whole maps).
struct WeightDecayRule {
  std::vector<std::string> excluded;  // names containing one of these are not decayed
  bool exclude_biases = false;        // names ending in "bias"
  bool exclude_vectors = false;       // one-dimensional tensors
  static WeightDecayRule biases_and_norms(std::vector<std::string> also = {}) { return {std::move(also), true, true}; }
  bool decays(const std::string& name, const std::vector<std::int64_t>& dims) const {
    if (exclude_biases && name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) return false;
    if (exclude_vectors && dims.size() == 1) return false;
    for (const auto& part : excluded)
      if (name.find(part) != std::string::npos) return false;
    return true;
  }
};

template <class B, int States>
class ParamSlots {
 public:
  struct Slot {
    std::string name;
    Param<B>* param;
    std::array<Buffer<B>*, States> state;
    double weight_decay;
  };

  template <class M>
  ParamSlots(M& model, double weight_decay, const WeightDecayRule& rule) {
    model.visit("", [&](const std::string& name, auto& e) {
      if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) {
        Slot slot{name, &e, {}, rule.decays(name, e.dims) ? weight_decay : 0.0};
        for (auto& s : slot.state) s = &buffers_.emplace_back(e.dims, typename B::scalar(0));
        slots_.push_back(std::move(slot));
      }
    });
  }
  std::vector<Slot>& slots() { return slots_; }
  // Visits the state under PyTorch's optimizer names: "<param>.<state name>".
  template <class F>
  void visit(const std::string& prefix, const std::array<const char*, States>& names, F&& f) {
    for (auto& s : slots_)
      for (int i = 0; i < States; ++i) f(prefix + s.name + "." + names[i], *s.state[i]);
  }
  void zero_grad() {
    for (auto& s : slots_) s.param->zero_grad();
  }

 private:
  std::vector<Slot> slots_;
  std::deque<Buffer<B>> buffers_;  // stable addresses
};

}  // namespace unetflow
