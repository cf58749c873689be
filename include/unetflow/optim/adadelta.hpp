#pragma once
// Adadelta as torch.optim.Adadelta (lr 1.0, rho 0.9, eps 1e-6, L2 weight decay with WeightDecayRule's
// exclusions). State: "step", "<param>.square_avg", "<param>.acc_delta".
#include <string>

#include "param_slots.hpp"

namespace unetflow {

template <class B>
class Adadelta {
 public:
  struct Options {
    double lr = 1.0, rho = 0.9, eps = 1e-6, weight_decay = 0;
  };

  template <class M>
  Adadelta(M& model, Options o, const WeightDecayRule& rule = {}) : options(o), slots_(model, o.weight_decay, rule) {}

  void step() {
    ++step_.value;
    for (auto& s : slots_.slots())
      B::adadelta_update(s.param->data(), s.param->grad.data(), s.state[0]->data(), s.state[1]->data(), s.param->size,
                         options.lr, options.rho, options.eps, s.weight_decay);
  }
  std::int64_t steps() const { return step_.value; }
  void zero_grad() { slots_.zero_grad(); }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "step", step_);
    slots_.visit(prefix, {"square_avg", "acc_delta"}, f);
  }

  Options options;

 private:
  ParamSlots<B, 2> slots_;
  Counter step_;
};

}  // namespace unetflow
