#pragma once
// Adam with PyTorch's semantics: betas (0.9, 0.999), eps 1e-8 added after the square root, bias correction,
// optional L2 weight decay added to the gradient. State (step, exp_avg, exp_avg_sq) is visitable for checkpoints
// under PyTorch's optimizer names: "<param>.exp_avg", "<param>.exp_avg_sq".
#include <string>
#include <vector>

#include "../param.hpp"

namespace unetflow {

template <class B>
class Adam {
 public:
  using T = typename B::scalar;
  struct Options {
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  };

  template <class M>
  explicit Adam(M& model, Options o = {}) : options(o) {
    model.visit("", [&](const std::string& name, auto& e) {
      if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) {
        slots_.push_back(Slot{name, &e, Buffer<B>(e.dims, T(0)), Buffer<B>(e.dims, T(0))});
      }
    });
  }

  void step() {
    ++step_.value;
    for (auto& s : slots_)
      B::adam_update(s.param->data(), s.param->grad.data(), s.exp_avg.data(), s.exp_avg_sq.data(), s.param->size,
                     options.lr, options.beta1, options.beta2, options.eps, options.weight_decay, long(step_.value));
  }
  std::int64_t steps() const { return step_.value; }
  void zero_grad() {
    for (auto& s : slots_) s.param->zero_grad();
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "step", step_);
    for (auto& s : slots_) {
      f(prefix + s.name + ".exp_avg", s.exp_avg);
      f(prefix + s.name + ".exp_avg_sq", s.exp_avg_sq);
    }
  }

  Options options;

 private:
  struct Slot {
    std::string name;
    Param<B>* param;
    Buffer<B> exp_avg, exp_avg_sq;
  };
  std::vector<Slot> slots_;
  Counter step_;
};

}  // namespace unetflow
