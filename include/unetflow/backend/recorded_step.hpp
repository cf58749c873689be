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
//           void abort() noexcept (ends a capture, keeps nothing); void launch(); void discard() noexcept
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

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
    const bool same = std::equal(key.begin(), key.end(), key_.begin(), key_.end()) && generation_ == device_.generation();
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
        try {
          f();
        } catch (...) {
          device_.abort();
          throw;
        }
        if (device_.generation() != before) {
          device_.abort();
          failure = "the step allocated device memory while it was recorded";
        } else {
          device_.end();
          recorded_ = true;
        }
      } catch (const std::exception& e) {
        failure = e.what();
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
      if (!said_) std::fprintf(stderr, "unetflow: recording a step failed (%s); it runs without recording from now on.\n", failure.c_str());
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

}  // namespace unetflow
