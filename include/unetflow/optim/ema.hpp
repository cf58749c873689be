#pragma once
// An exponential moving average of a model's parameters: shadow = d * shadow + (1 - d) * param after every
// optimiser step, with d = min(decay, (1 + k) / (10 + k)) at the k-th update, so that the first steps (the
// random initialisation) do not linger in the average of short runs. Sampling from the averaged weights smooths
// out the noise of a constant learning rate (what a decaying schedule would otherwise do). With `buffers`, the
// buffers (batch-norm running statistics) are averaged the same way, as timm's ModelEmaV2; without, averaged
// weights need statistics of their own (optim/batch_norm_statistics.hpp) or take the trained model's. Checkpointed
// under the parameters' (and buffers') PyTorch-style names.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "../param.hpp"

namespace unetflow {

// Which batch-norm statistics averaged weights are evaluated with (TrainOptions::ema_statistics).
enum class EmaStatistics { running, averaged, recomputed };
inline const char* ema_statistics_name(EmaStatistics s) {
  return s == EmaStatistics::averaged ? "averaged" : s == EmaStatistics::recomputed ? "recomputed" : "running";
}

template <class B>
class Ema {
 public:
  using T = typename B::scalar;

  template <class M>
  Ema(M& model, double decay, bool buffers = false) : decay_(decay), buffers_(buffers) {
    model.visit("", [&](const std::string& name, auto& e) {
      using E = std::decay_t<decltype(e)>;
      if constexpr (is_instance_v<E, Param> || is_instance_v<E, Buffer>) {
        if (!is_instance_v<E, Param> && !buffers) return;
        slots_.push_back(Slot{name, &e, Buffer<B>(e.dims)});
        B::copy(e.data(), slots_.back().shadow.data(), e.size);
      }
    });
  }

  void update() {
    const double k = double(updates_.value++);
    const double dk = std::min(decay_, (1 + k) / (10 + k));
    for (auto& s : slots_) B::blend(s.shadow.data(), s.source->data(), s.source->size, T(dk), T(1 - dk));
  }

  // Copies the averaged parameters (and buffers, when averaged) into `target`, a model of the same type as the one
  // averaged (its other state is left as it is).
  template <class M>
  void copy_to(M& target) const {
    std::map<std::string, const Buffer<B>*> by_name;
    for (auto& s : slots_) by_name[s.name] = &s.shadow;
    target.visit("", [&](const std::string& name, auto& e) {
      using E = std::decay_t<decltype(e)>;
      if constexpr (is_instance_v<E, Param> || is_instance_v<E, Buffer>) {
        if (!is_instance_v<E, Param> && !buffers_) return;
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
    Buffer<B>* source;  // a Param, or a buffer when buffers are averaged
    Buffer<B> shadow;
  };
  double decay_;
  bool buffers_;
  Counter updates_;
  std::vector<Slot> slots_;
};

}  // namespace unetflow
