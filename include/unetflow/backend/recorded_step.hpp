#pragma once
// The rule of a recorded step, apart from the device that records it (cuda::Graph uses it with CUDA Graphs;
// tests/recorded_step_test.cpp drives it with a fake device):
//   - the first call with a key, or after any device allocation (the device's generation changed), runs f;
//   - the second call with the same key and generation records f and launches the recording;
//   - later calls launch the recording (f's host code does not run).
// A recording that fails (f throws while it is recorded, the capture or its instantiation fails, or f allocated
// device memory while it was recorded, which invalidates the capture) is ended, the step is run eagerly at once
// and from then on, and the failure is said once on stderr. snapshot() is called just before a recording is
// attempted (once per recording, not every step) and returns an undo: called before that eager run, it puts back
// what the failed attempt's host code changed (the trainer's tasks: the batch-norm batch counters).
//   Device: std::uint64_t generation() const; bool enabled() const; void begin(); void end() (instantiates);
//           void abort() noexcept (ends a capture if one is open, keeps nothing, clears the device's last error);
//           void launch(); void discard() noexcept
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "../param.hpp"
#include "common.hpp"

namespace unetflow {

struct RecordedStepStatistics {
  long eager = 0, recorded = 0, replayed = 0, failed = 0;
};

template <class Device>
class RecordedStep {
 public:
  explicit RecordedStep(Device device = {}) : device_(std::move(device)) {}
  RecordedStep(const RecordedStep&) = delete;
  RecordedStep& operator=(const RecordedStep&) = delete;
  ~RecordedStep() { forget(); }

  // Returns how many times f's host code ran: 0 (the recording was launched: the caller redoes its host effects),
  // 1, or 2 after a failed recording (the snapshot's undo was called between the two).
  template <class F, class Snapshot>
  int run(StepKey key, F&& f, Snapshot&& snapshot) {
    const bool same =
        std::equal(key.begin(), key.end(), key_.begin(), key_.end()) && generation_ == device_.generation();
    if (same && recorded_) {
      device_.launch();
      ++statistics_.replayed;
      return 0;
    }
    if (same && warm_ && !disabled_) {
      std::string failure;
      auto undo = snapshot();
      const std::uint64_t before = device_.generation();
      try {
        device_.begin();
        f();
        if (device_.generation() != before) {
          device_.abort();
          failure = "the step allocated device memory while it was recorded";
        } else {
          device_.end();
          recorded_ = true;
        }
      } catch (const std::exception& e) {
        // ends a capture still open and clears the error a failed begin, capture or instantiation left behind,
        // which the eager run's first check would otherwise report as its own
        device_.abort();
        failure = e.what();
      } catch (...) {
        device_.abort();
        throw;
      }
      if (failure.empty()) {
        generation_ = device_.generation();
        device_.launch();
        ++statistics_.recorded;
        return 1;
      }
      ++statistics_.failed;
      disabled_ = true;
      warm_ = recorded_ = false;
      if (!said_)
        std::fprintf(stderr, "unetflow: recording a step failed (%s); it runs without recording from now on.\n",
                     failure.c_str());
      said_ = true;
      undo();
      f();
      ++statistics_.eager;
      generation_ = device_.generation();
      return 2;
    }
    forget();
    key_.assign(key.begin(), key.end());
    f();
    ++statistics_.eager;
    generation_ = device_.generation();
    warm_ = device_.enabled() && !disabled_;
    return 1;
  }
  template <class F>
  int run(StepKey key, F&& f) {
    return run(key, std::forward<F>(f), [] { return [] {}; });
  }

  const RecordedStepStatistics& statistics() const { return statistics_; }
  bool disabled() const { return disabled_; }  // by a failed recording
  Device& device() { return device_; }

 private:
  void forget() {
    if (recorded_) device_.discard();
    recorded_ = warm_ = false;
    key_.clear();
  }

  Device device_;
  std::vector<std::uintptr_t> key_;
  std::uint64_t generation_ = 0;
  bool warm_ = false, recorded_ = false, disabled_ = false, said_ = false;
  RecordedStepStatistics statistics_;
};

// f(counter) for each batch-norm layer's batch counter (num_batches_tracked): the host state of a training step.
template <class M, class F>
void for_each_batch_counter(M& m, F&& f) {
  const std::string counter = "num_batches_tracked";
  m.visit("", [&](const std::string& name, auto& e) {
    if constexpr (std::is_same_v<std::decay_t<decltype(e)>, Counter>)
      if (name.size() >= counter.size() && name.compare(name.size() - counter.size(), counter.size(), counter) == 0)
        f(e);
  });
}
// What a replayed (recorded) training step leaves undone on the host: the batch counters move on by one.
template <class M>
void count_replayed_batch(M& m) {
  for_each_batch_counter(m, [](Counter& c) { ++c.value; });
}
// A recorded step's snapshot (backend/recorded_step.hpp): the counters now, and an undo that puts them back
// after a failed recording ran the step's host code.
template <class M>
auto batch_counters_snapshot(M& m) {
  std::vector<std::int64_t> values;
  for_each_batch_counter(m, [&](Counter& c) { values.push_back(c.value); });
  return [&m, values = std::move(values)] {
    std::size_t i = 0;
    for_each_batch_counter(m, [&](Counter& c) { c.value = values.at(i++); });
  };
}
// What a recorded step must know of a module's modes and random streams: a step recorded in training mode must not
// be replayed in evaluation mode, and one that drew a dropout mask must not be replayed with that mask (the draw
// number is a kernel argument), so a model whose streams draw in the step gets a new key each step and runs eagerly.
// A 64-bit FNV-1a hash of every Mode flag and every stream's position, in visiting order.
template <class M>
std::uintptr_t modes_key(M& m) {
  std::uint64_t h = 14695981039346656037ull;
  const auto add = [&](std::uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  m.visit("", [&](const std::string&, auto& e) {
    using E = std::decay_t<decltype(e)>;
    if constexpr (std::is_same_v<E, Mode>) add(e.training ? 0x5bu : 0xa4u);
    if constexpr (std::is_same_v<E, Stream>) add(std::uint64_t(e.seed.value) ^ (std::uint64_t(e.draws.value) << 1));
  });
  return std::uintptr_t(h);
}
// One training step of `model` through `graph` (the backend's Graph, a RecordedStep on a recording backend): the
// step's key is `inputs` with the model's address and modes; the batch-norm counters are put back after a failed
// recording, and moved on by one after a replay (whose host code, which moves them, did not run).
template <class Graph, class M, class F, class... Key>
void run_training_step(Graph& graph, M& model, F&& step, Key... inputs) {
  const int ran = graph.run({std::uintptr_t(inputs)..., key_of(&model), modes_key(model)}, std::forward<F>(step),
                            [&] { return batch_counters_snapshot(model); });
  if (ran == 0) count_replayed_batch(model);
}

}  // namespace unetflow
