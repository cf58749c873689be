#pragma once
// How close two tensors are, the one rule every parity test uses: the largest absolute difference relative to the
// reference's largest magnitude (or to `floor` when that is larger, for references that are zero up to noise).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace unetflow::testing {

template <class T, class R>
double rel_error(const T* ours, const R* reference, std::ptrdiff_t n, double floor = 1e-6) {
  double err = 0, mag = 0;
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    err = std::max(err, std::abs(double(ours[i]) - double(reference[i])));
    mag = std::max(mag, std::abs(double(reference[i])));
  }
  return err / std::max(mag, floor);
}

template <class T, class R>
double rel_error(const std::vector<T>& ours, const std::vector<R>& reference, double floor = 1e-6) {
  if (ours.size() != reference.size())
    throw std::invalid_argument("rel_error: " + std::to_string(ours.size()) + " values against a reference of " +
                                std::to_string(reference.size()));
  return rel_error(ours.data(), reference.data(), std::ptrdiff_t(ours.size()), floor);
}

}  // namespace unetflow::testing
