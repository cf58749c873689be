#pragma once
// ExponentialLR: lr = base_lr * gamma^epoch, stepped once per epoch (torch.optim.lr_scheduler.ExponentialLR).
#include <cmath>
#include <string>

#include "../param.hpp"

namespace unetflow {

template <class Optimizer>
class ExponentialLR {
 public:
  ExponentialLR(Optimizer& opt, double gamma) : opt_(opt), gamma_(gamma), base_lr_(opt.options.lr) {}

  void step() {
    ++epoch_.value;
    opt_.options.lr = base_lr_ * std::pow(gamma_, double(epoch_.value));
  }
  double lr() const { return opt_.options.lr; }
  double gamma() const { return gamma_; }
  std::int64_t last_epoch() const { return epoch_.value; }

  // Checkpointed as the epoch counter; the learning rate is derived from it on load (see restore()).
  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "last_epoch", epoch_);
  }
  void restore() { opt_.options.lr = base_lr_ * std::pow(gamma_, double(epoch_.value)); }

 private:
  Optimizer& opt_;
  double gamma_, base_lr_;
  Counter epoch_;
};

}  // namespace unetflow
