#pragma once
// What the programs' figures and evaluations share: test images gathered, the mean squared error, number text,
// solver phrases for titles.
#include <algorithm>
#include <cstdio>
#include <string>
#include <unetflow/data/mnist.hpp>
#include <unetflow/flow/ode.hpp>
#include <unetflow/tensor.hpp>
#include <unetflow/transfer.hpp>
#include <vector>

namespace examples {

using namespace unetflow;

// Copies images idx[0..] of `set` into a contiguous host vector.
inline std::vector<float> gather(const ImageSet& set, const std::vector<int>& idx) {
  const std::ptrdiff_t plane = set.sample_size();
  std::vector<float> out(idx.size() * std::size_t(plane));
  for (std::size_t i = 0; i < idx.size(); ++i)
    std::copy(set.image(idx[i]), set.image(idx[i]) + plane, out.begin() + std::ptrdiff_t(i) * plane);
  return out;
}

// The first `count` test images (a fixed, varied selection of digits).
inline std::vector<int> first_indices(int count) {
  std::vector<int> indices(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) indices[std::size_t(i)] = i;
  return indices;
}

inline double mse(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return s / double(a.size());
}

inline std::string fmt(double v, int digits = 2) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// "50 Euler steps", "10 RK4 steps, 40 evaluations": for figure titles.
inline std::string solver_phrase(int steps, Solver solver) {
  static const char* names[] = {"Euler", "midpoint", "Heun", "RK4"};
  std::string s = std::to_string(steps) + " " + names[int(solver)] + " steps";
  if (evaluations_per_step(solver) > 1)
    s += ", " + std::to_string(steps * evaluations_per_step(solver)) + " evaluations";
  return s;
}

// Class names one per line, as the checkpoints' metadata carries them (sample labels its figures with them).
inline std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& name : names) s += (s.empty() ? "" : "\n") + name;
  return s;
}

}  // namespace examples
