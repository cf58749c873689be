#pragma once
// Adam and AdamW with PyTorch's semantics: betas (0.9, 0.999), eps 1e-8 added after the square root, bias
// correction. Adam adds L2 weight decay to the gradient; AdamW decays the weights themselves, p *= 1 - lr wd, before
// the step (decoupled; weight decay 1e-2 by default). WeightDecayRule picks which parameters decay. State (step,
// exp_avg, exp_avg_sq) is visitable for checkpoints under PyTorch's optimizer names: "<param>.exp_avg",
// "<param>.exp_avg_sq".
#include <string>

#include "param_slots.hpp"

namespace unetflow {

template <class B, bool Decoupled>
class AdamFamily {
 public:
  using T = typename B::scalar;
  struct Options {
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = Decoupled ? 1e-2 : 0.0;
  };

  template <class M>
  explicit AdamFamily(M& model, Options o = {}, const WeightDecayRule& rule = {})
      : options(o), slots_(model, o.weight_decay, rule) {}

  void step() {
    ++step_.value;
    for (auto& s : slots_.slots()) {
      T* p = s.param->data();
      double l2 = s.weight_decay;
      if constexpr (Decoupled) {  // AdamW: p *= 1 - lr wd, then the step without decay
        if (l2 != 0) B::blend(p, p, s.param->size, T(1 - options.lr * l2), T(0));
        l2 = 0;
      }
      B::adam_update(p, s.param->grad.data(), s.state[0]->data(), s.state[1]->data(), s.param->size, options.lr,
                     options.beta1, options.beta2, options.eps, l2, long(step_.value));
    }
  }
  std::int64_t steps() const { return step_.value; }
  void zero_grad() { slots_.zero_grad(); }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "step", step_);
    slots_.visit(prefix, {"exp_avg", "exp_avg_sq"}, f);
  }

  Options options;

 private:
  ParamSlots<B, 2> slots_;
  Counter step_;
};

template <class B>
using Adam = AdamFamily<B, false>;
template <class B>
using AdamW = AdamFamily<B, true>;

}  // namespace unetflow
