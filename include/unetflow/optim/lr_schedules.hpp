#pragma once
// Learning-rate schedules as torch.optim.lr_scheduler's, stepped once per epoch (or per step, as the user
// chooses): each sets optimizer.options.lr = rule(base_lr, epoch) in closed form, so that a schedule is
// checkpointed as its epoch counter ("last_epoch") and restore() after loading puts the learning rate back.
//   StepLR(opt, step_size, gamma = 0.1)            base gamma^floor(e / step_size)
//   MultiStepLR(opt, milestones, gamma = 0.1)      base gamma^(milestones passed)
//   CosineAnnealingLR(opt, t_max, eta_min = 0)     eta_min + (base - eta_min)(1 + cos(pi e / t_max)) / 2
//   LinearLR(opt, start = 1/3, end = 1, total = 5) base (start + (end - start) min(e, total) / total): warm-up
//   SequentialLR(opt, {rules...}, milestones)      rule i from milestone i-1 on, its epochs counted from there
// (ExponentialLR, optim/exponential_lr.hpp, is the same idea for base gamma^e.)
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../param.hpp"

namespace unetflow {

// A schedule's rule: the learning rate at an epoch, given the base.
using LRRule = std::function<double(double base, std::int64_t epoch)>;

namespace lr_rules {
inline LRRule step(std::int64_t step_size, double gamma) {
  if (step_size < 1) throw Error("StepLR: step_size must be at least 1.");
  return [=](double base, std::int64_t e) { return base * std::pow(gamma, double(e / step_size)); };
}
inline LRRule multi_step(std::vector<std::int64_t> milestones, double gamma) {
  if (!std::is_sorted(milestones.begin(), milestones.end()))
    throw Error("MultiStepLR: the milestones must be in increasing order.");
  return [=](double base, std::int64_t e) {
    const auto passed = std::upper_bound(milestones.begin(), milestones.end(), e) - milestones.begin();
    return base * std::pow(gamma, double(passed));
  };
}
inline LRRule cosine(std::int64_t t_max, double eta_min) {
  if (t_max < 1) throw Error("CosineAnnealingLR: t_max must be at least 1.");
  return [=](double base, std::int64_t e) {
    return eta_min + (base - eta_min) * (1 + std::cos(M_PI * double(e) / double(t_max))) / 2;
  };
}
inline LRRule linear(double start, double end, std::int64_t total) {
  if (!(start > 0 && start <= 1 && end >= 0 && end <= 1))
    throw Error("LinearLR: start_factor must lie in (0, 1] and end_factor in [0, 1].");
  if (total < 1) throw Error("LinearLR: total_iters must be at least 1.");
  return [=](double base, std::int64_t e) {
    return base * (start + (end - start) * double(std::min(e, total)) / double(total));
  };
}
inline LRRule sequential(std::vector<LRRule> rules, std::vector<std::int64_t> milestones) {
  if (rules.empty() || milestones.size() + 1 != rules.size())
    throw Error("SequentialLR: needs one milestone fewer than schedules.");
  if (!std::is_sorted(milestones.begin(), milestones.end()))
    throw Error("SequentialLR: the milestones must be in increasing order.");
  return [=](double base, std::int64_t e) {
    const auto i = std::upper_bound(milestones.begin(), milestones.end(), e) - milestones.begin();
    return rules[std::size_t(i)](base, i == 0 ? e : e - milestones[std::size_t(i) - 1]);
  };
}
}  // namespace lr_rules

template <class Optimizer>
class LRScheduler {
 public:
  LRScheduler(Optimizer& opt, LRRule rule) : opt_(opt), rule_(std::move(rule)), base_lr_(opt.options.lr) { restore(); }

  void step() {
    ++epoch_.value;
    restore();
  }
  double lr() const { return opt_.options.lr; }
  std::int64_t last_epoch() const { return epoch_.value; }
  const LRRule& rule() const { return rule_; }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "last_epoch", epoch_);
  }
  // After loading a checkpoint: the learning rate of the loaded epoch.
  void restore() { opt_.options.lr = rule_(base_lr_, epoch_.value); }

 private:
  Optimizer& opt_;
  LRRule rule_;
  double base_lr_;
  Counter epoch_;
};

template <class Optimizer>
struct StepLR : LRScheduler<Optimizer> {
  StepLR(Optimizer& opt, std::int64_t step_size, double gamma = 0.1)
      : LRScheduler<Optimizer>(opt, lr_rules::step(step_size, gamma)) {}
};
template <class Optimizer>
struct MultiStepLR : LRScheduler<Optimizer> {
  MultiStepLR(Optimizer& opt, std::vector<std::int64_t> milestones, double gamma = 0.1)
      : LRScheduler<Optimizer>(opt, lr_rules::multi_step(std::move(milestones), gamma)) {}
};
template <class Optimizer>
struct CosineAnnealingLR : LRScheduler<Optimizer> {
  CosineAnnealingLR(Optimizer& opt, std::int64_t t_max, double eta_min = 0)
      : LRScheduler<Optimizer>(opt, lr_rules::cosine(t_max, eta_min)) {}
};
template <class Optimizer>
struct LinearLR : LRScheduler<Optimizer> {
  LinearLR(Optimizer& opt, double start_factor = 1.0 / 3, double end_factor = 1.0, std::int64_t total_iters = 5)
      : LRScheduler<Optimizer>(opt, lr_rules::linear(start_factor, end_factor, total_iters)) {}
};
template <class Optimizer>
struct SequentialLR : LRScheduler<Optimizer> {
  SequentialLR(Optimizer& opt, std::vector<LRRule> rules, std::vector<std::int64_t> milestones)
      : LRScheduler<Optimizer>(opt, lr_rules::sequential(std::move(rules), std::move(milestones))) {}
};

}  // namespace unetflow
