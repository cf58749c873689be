#pragma once
// A progress line on stderr for long runs: epoch, step/total, loss, images/s and ETA. On a terminal it redraws
// one line; into a file or pipe it prints a line every tenth of an epoch instead of flooding the log.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace unetflow {

inline std::string format_duration(double seconds) {
  const long s = long(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  return buf;
}

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled = true) : enabled_(enabled), tty_(::isatty(2)) {}

  // step is 1-based; remaining_steps counts every step left in the run after this one.
  void update(long epoch, long epochs, long step, long steps, double loss, double images_per_s, long remaining_steps,
              double seconds_per_step) {
    if (!enabled_) return;
    const bool last = step == steps;
    if (!tty_ && !last && step % std::max(1L, steps / 10) != 0) return;
    const int width = 24, filled = int(double(width) * double(step) / double(steps));
    std::string bar(std::size_t(filled), '=');
    if (filled < width) bar += '>' + std::string(std::size_t(width - filled - 1), ' ');
    std::fprintf(stderr, "%sepoch %ld/%ld [%s] %ld/%ld  loss %.5f  %.1f img/s  ETA %s%s", tty_ ? "\r" : "", epoch,
                 epochs, bar.c_str(), step, steps, loss, images_per_s,
                 format_duration(double(remaining_steps) * seconds_per_step).c_str(), tty_ && !last ? "" : "\n");
    std::fflush(stderr);
  }

 private:
  bool enabled_, tty_;
};

}  // namespace unetflow
