#pragma once
// The memory a training step takes, measured before a run commits to a batch size: a batch that cannot fit is
// refused in one sentence instead of ending, minutes later, under the kernel's out-of-memory killer.
// Measured, not derived: one step of a throwaway model at batch 2 and at batch 4 (zeros in, a stream of its own,
// an Adam of its own) under the CPU policy's allocation count (backend/cpu/memory.hpp); the difference is the
// per-sample cost, which is linear in the batch for every layer here. Backends without the count are not checked.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../optim/adam.hpp"
#include "../random.hpp"
#include "../system_memory.hpp"
#include "../tensor.hpp"

namespace unetflow {

struct StepMemory {
  double fixed_bytes = 0;       // what does not grow with the batch (weights, optimiser state, buffers per step)
  double per_sample_bytes = 0;  // what each sample of a batch adds
  double at(int batch) const { return fixed_bytes + per_sample_bytes * batch; }
};

template <class B>
concept CountsAllocations = requires {
  { B::allocated_bytes() } -> std::convertible_to<std::int64_t>;
  { B::peak_allocated_bytes() } -> std::convertible_to<std::int64_t>;
  B::reset_peak();
};

// The memory of a training step of Model under task (the task's own buffers included) at any batch, on top of what
// is allocated when it is called (the caller's model and optimiser are counted there).
template <class Model, class Task, class B = typename Model::backend>
requires CountsAllocations<B> StepMemory measure_step_memory(Task& task) {
  using In = typename Model::In;
  using T = typename B::scalar;
  const double before = double(B::allocated_bytes());
  auto probe = std::make_unique<Model>();
  Adam<B> adam(*probe);
  const double baseline = double(B::allocated_bytes());
  Rng rng(0x5eed, 99);
  Tensor<In, B> x(4);
  B::fill(x.data(), x.numel(), T(0));
  const std::vector<std::uint8_t> labels(4, 0);
  auto peak_of_step = [&](int n) {
    B::reset_peak();
    adam.zero_grad();
    task.step(*probe, View<In, const T>{x.data(), n}, labels.data(), rng);
    adam.step();
    return double(B::peak_allocated_bytes()) - baseline;
  };
  const double at2 = peak_of_step(2), at4 = peak_of_step(4);
  StepMemory m;
  m.per_sample_bytes = std::max(0.0, (at4 - at2) / 2);
  // The step's own fixed part (weight gradients, scratch that does not scale) beside what the caller already holds.
  m.fixed_bytes = before + std::max(0.0, at2 - 2 * m.per_sample_bytes);
  return m;
}

// Throws when a step at `batch` (of which at most `samples` exist: a batch larger than the data set is the set)
// plus `per_sample_extra` bytes per sample of `batch` that the caller holds (its batch buffers) needs more than
// `limit` bytes (0: 90 % of what the machine has available, leaving the rest to the system and the program).
inline void check_step_fits(const StepMemory& m, int batch, int samples, double per_sample_extra, double limit) {
  const bool of_machine = limit == 0;
  if (of_machine) limit = 0.9 * available_memory_bytes();
  if (limit <= 0) return;  // unknown: nothing to compare with
  const double need = m.at(std::min(batch, samples)) + per_sample_extra * batch;
  if (need <= limit) return;
  auto gb = [](double bytes) {
    std::ostringstream s;
    s.precision(bytes < 1e9 ? 2 : 3);
    s << bytes / 1e9;
    return s.str();
  };
  const int fits = m.per_sample_bytes + per_sample_extra > 0
                       ? int(std::max(0.0, (limit - m.fixed_bytes) / (m.per_sample_bytes + per_sample_extra)))
                       : 0;
  throw Error("a training step at batch " + std::to_string(batch) + " needs about " + gb(need) + " GB (" +
              gb(m.fixed_bytes) + " GB fixed, " +
              std::to_string(std::int64_t((m.per_sample_bytes + per_sample_extra) / 1e3)) +
              " kB per sample), more than the " + gb(limit) + " GB " +
              (of_machine ? "it may take (90 % of what this machine and its container have available)" : "allowed") +
              ": use a batch of at most " + std::to_string(fits) + ".");
}

}  // namespace unetflow
