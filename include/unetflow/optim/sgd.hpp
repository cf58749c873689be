#pragma once
// SGD as torch.optim.SGD: optional momentum (buffer started at the first step's gradient), dampening, Nesterov,
// L2 weight decay added to the gradient (with WeightDecayRule's exclusions). State: "step" and, per parameter,
// "<param>.momentum_buffer".
#include <string>

#include "../error.hpp"
#include "param_slots.hpp"

namespace unetflow {

template <class B>
class SGD {
 public:
  struct Options {
    double lr = 1e-3, momentum = 0, dampening = 0, weight_decay = 0;
    bool nesterov = false;
  };

  template <class M>
  SGD(M& model, Options o, const WeightDecayRule& rule = {}) : options(o), slots_(model, o.weight_decay, rule) {
    if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
      throw Error("SGD: Nesterov momentum needs a momentum above 0 and zero dampening.");
  }

  void step() {
    ++step_.value;
    for (auto& s : slots_.slots())
      B::sgd_update(s.param->data(), s.param->grad.data(), s.state[0]->data(), s.param->size, options.lr,
                    options.momentum, options.dampening, s.weight_decay, options.nesterov, step_.value == 1);
  }
  std::int64_t steps() const { return step_.value; }
  void zero_grad() { slots_.zero_grad(); }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "step", step_);
    slots_.visit(prefix, {"momentum_buffer"}, f);
  }

  Options options;

 private:
  ParamSlots<B, 1> slots_;
  Counter step_;
};

}  // namespace unetflow
