#pragma once
// Stopping a training run from outside: Ctrl-C (SIGINT) or SIGTERM (what mpirun and job schedulers send).
//   StopOnSignal stop(checkpoint_path);   for the scope of a run: installs the handlers and a watchdog
//   stop.requested()                      read between steps: finish this step, write a checkpoint, return
//   stop.step_started() / step_ended(s)   around each step, so the watchdog knows how long a step usually takes
// The rule: a stop request is honoured within about a second. The first signal only sets a flag, so that the step in
// progress can end and its work be saved; if that step (or an epoch's figures) has not ended one second after the
// request, or after twice the usual step time from the step's start when that is later, the watchdog ends the process
// with one sentence. The checkpoint on disk is whole whatever the moment (every write is atomic): ending is safe,
// and what is given up is only the steps since that checkpoint. A second signal ends the program at once.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

namespace unetflow {

namespace detail {
inline std::atomic<bool>& stop_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}
inline std::int64_t monotonic_ns() {  // clock_gettime is async-signal-safe
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return std::int64_t(t.tv_sec) * 1000000000 + t.tv_nsec;
}
struct StopSignal {
  std::atomic<std::int64_t> at_ns{0};  // when the first stop signal came (0: none yet)
  std::atomic<int> number{0};
};
inline StopSignal& stop_signal() {
  static StopSignal signal;
  return signal;
}
extern "C" inline void on_stop_signal(int number) {
  stop_signal().at_ns = monotonic_ns();
  stop_signal().number = number;
  stop_flag() = true;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C (or SIGTERM) ends the program at once
  std::signal(SIGTERM, SIG_DFL);
}
}  // namespace detail

class StopOnSignal {
 public:
  explicit StopOnSignal(std::filesystem::path checkpoint) : checkpoint_(std::move(checkpoint)) {
    detail::stop_flag() = false;
    detail::stop_signal().at_ns = 0;
    previous_int_ = std::signal(SIGINT, detail::on_stop_signal);
    previous_term_ = std::signal(SIGTERM, detail::on_stop_signal);
    watchdog_ = std::thread([this] { watch(); });
  }
  ~StopOnSignal() {
    {
      std::lock_guard guard(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    watchdog_.join();
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

  bool requested() const { return detail::stop_flag(); }
  void step_started() { step_start_ns_ = detail::monotonic_ns(); }
  void step_ended(double usual_seconds) {
    step_start_ns_ = 0;
    usual_step_ns_ = std::int64_t(usual_seconds * 1e9);
  }

 private:
  void watch() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(50), [this] { return done_; })) {
      const std::int64_t requested = detail::stop_signal().at_ns;
      if (!detail::stop_flag() || requested == 0) continue;  // none, or one from request_stop (tests): no deadline
      std::int64_t deadline = requested + 1000000000;
      const std::int64_t started = step_start_ns_, usual = usual_step_ns_;
      if (started != 0 && usual > 0) deadline = std::max(deadline, started + 2 * usual);
      if (detail::monotonic_ns() < deadline) continue;
      const int number = detail::stop_signal().number;
      std::error_code ec;
      const std::string kept =
          std::filesystem::exists(checkpoint_, ec)
              ? "the last checkpoint, " + checkpoint_.string() + ", is kept: continue with --resume"
              : "no checkpoint was written yet";
      std::fprintf(stderr,
                   "\nstopped: the %s came while a step or an epoch's outputs were in progress, which did not end in "
                   "time; %s.\n",
                   number == SIGTERM ? "SIGTERM" : "Ctrl-C", kept.c_str());
      std::fflush(stderr);
      std::_Exit(128 + (number ? number : SIGINT));
    }
  }

  std::filesystem::path checkpoint_;
  void (*previous_int_)(int) = SIG_DFL;
  void (*previous_term_)(int) = SIG_DFL;
  std::atomic<std::int64_t> step_start_ns_{0}, usual_step_ns_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread watchdog_;
};

}  // namespace unetflow
