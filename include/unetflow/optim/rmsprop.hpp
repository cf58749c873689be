#pragma once
// RMSprop as torch.optim.RMSprop (alpha 0.99, eps 1e-8 added after the square root, optional centring and
// momentum, L2 weight decay with WeightDecayRule's exclusions). State: "step", "<param>.square_avg",
// "<param>.momentum_buffer", "<param>.grad_avg".
#include <string>

#include "param_slots.hpp"

namespace unetflow {

template <class B>
class RMSprop {
 public:
  struct Options {
    double lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0;
    bool centered = false;
  };

  template <class M>
  RMSprop(M& model, Options o, const WeightDecayRule& rule = {}) : options(o), slots_(model, o.weight_decay, rule) {}

  void step() {
    ++step_.value;
    for (auto& s : slots_.slots())
      B::rmsprop_update(s.param->data(), s.param->grad.data(), s.state[0]->data(), s.state[2]->data(),
                        s.state[1]->data(), s.param->size, options.lr, options.alpha, options.eps, s.weight_decay,
                        options.momentum, options.centered);
  }
  std::int64_t steps() const { return step_.value; }
  void zero_grad() { slots_.zero_grad(); }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "step", step_);
    slots_.visit(prefix, {"square_avg", "momentum_buffer", "grad_avg"}, f);
  }

  Options options;

 private:
  ParamSlots<B, 3> slots_;
  Counter step_;
};

}  // namespace unetflow
