#pragma once
// Where a training run stands (checkpointed under "progress."), and the checks a resumed run makes of it.
#include <cstdint>
#include <optional>
#include <string>

#include "../error.hpp"
#include "../param.hpp"

namespace unetflow {

// Where a run stands; checkpointed under "progress.".
struct TrainProgress {
  Counter epoch;         // completed epochs
  Counter batch;         // completed batches of the current epoch
  Counter step;          // optimiser steps so far
  Series losses;         // loss of every step
  Series epoch_seconds;  // wall time of each completed epoch
  Words noise_rng;       // state of the stream the task draws from

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "epoch", epoch);
    f(prefix + "batch", batch);
    f(prefix + "step", step);
    f(prefix + "losses", losses);
    f(prefix + "epoch_seconds", epoch_seconds);
    f(prefix + "noise_rng", noise_rng);
  }
};

// The counters of a resumed checkpoint (`source`) against each other and against the run: a file whose counters
// were changed would otherwise send the loader and the epoch loop out of range, or set another learning rate.
// sched_epoch, optim_steps, ema_updates: what the schedule, the optimiser and the moving average (if any) count.
inline void check_resumed(const TrainProgress& progress, const std::string& source, long steps_per_epoch,
                          std::int64_t sched_epoch, std::int64_t optim_steps, std::optional<std::int64_t> ema_updates) {
  if (progress.batch.value > steps_per_epoch)
    throw Error(source + " stopped at batch " + std::to_string(progress.batch.value) +
                " of an epoch, but this run has " + std::to_string(steps_per_epoch) +
                " batches per epoch: resume with the same batch size and preset.");
  // The counters must agree with the records that grow with them (one loss per step, one time per epoch).
  if (std::size_t(progress.step.value) != progress.losses.values.size())
    throw Error("checkpoint " + source + ": progress.step is " + std::to_string(progress.step.value) +
                " but progress.losses holds " + std::to_string(progress.losses.values.size()) +
                " losses; the file is damaged.");
  if (std::size_t(progress.epoch.value) != progress.epoch_seconds.values.size())
    throw Error("checkpoint " + source + ": progress.epoch is " + std::to_string(progress.epoch.value) +
                " but progress.epoch_seconds holds " + std::to_string(progress.epoch_seconds.values.size()) +
                " epoch times; the file is damaged.");
  // The other parts count the same steps and epochs: a schedule whose epoch disagrees would set another learning
  // rate, an optimiser whose step disagrees another bias correction.
  auto agree = [&](const char* name, std::int64_t value, const char* with, std::int64_t expected) {
    if (value != expected)
      throw Error("checkpoint " + source + ": " + name + " is " + std::to_string(value) + " but " + with + " is " +
                  std::to_string(expected) + "; the two count the same thing, so the file is damaged.");
  };
  agree("sched.last_epoch", sched_epoch, "progress.epoch", progress.epoch.value);
  agree("optim.step", optim_steps, "progress.step", progress.step.value);
  if (ema_updates) agree("ema.updates", *ema_updates, "progress.step", progress.step.value);
}

}  // namespace unetflow
