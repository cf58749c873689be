#pragma once
// An exponential moving average of a model's parameters: shadow = d * shadow + (1 - d) * param after every
// optimiser step, with d = min(decay, (1 + k) / (10 + k)) at the k-th update, so that the first steps (the
// random initialisation) do not linger in the average of short runs. Sampling from the averaged weights smooths
// out the noise of a constant learning rate (what a decaying schedule would otherwise do). Checkpointed under
// the parameters' PyTorch-style names.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "../param.hpp"

namespace unetflow {

template <class B>
class Ema {
 public:
  using T = typename B::scalar;

  template <class M>
  Ema(M& model, double decay) : decay_(decay) {
    model.visit("", [&](const std::string& name, auto& e) {
      if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) {
        slots_.push_back(Slot{name, &e, Buffer<B>(e.dims)});
        B::copy(e.data(), slots_.back().shadow.data(), e.size);
      }
    });
  }

  void update() {
    const double k = double(updates_.value++);
    const double dk = std::min(decay_, (1 + k) / (10 + k));
    for (auto& s : slots_) B::blend(s.shadow.data(), s.param->data(), s.param->size, T(dk), T(1 - dk));
  }

  // Copies the averaged parameters into `target`, a model of the same type as the one averaged (its other
  // state, such as batch-norm statistics, is left as it is).
  template <class M>
  void copy_to(M& target) const {
    std::map<std::string, const Buffer<B>*> by_name;
    for (auto& s : slots_) by_name[s.name] = &s.shadow;
    target.visit("", [&](const std::string& name, auto& e) {
      if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) {
        const auto* sh = by_name.at(name);
        B::copy(sh->data(), e.data(), e.size);
      }
    });
  }
  double decay() const { return decay_; }
  std::int64_t updates() const { return updates_.value; }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "updates", updates_);
    for (auto& s : slots_) f(prefix + s.name, s.shadow);
  }

 private:
  struct Slot {
    std::string name;
    Param<B>* param;
    Buffer<B> shadow;
  };
  double decay_;
  Counter updates_;
  std::vector<Slot> slots_;
};

}  // namespace unetflow
