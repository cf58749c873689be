#pragma once
// How the site writes numbers: fixed digits, percentages, durations, counts with thousands separators.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace report {

inline std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

// Three significant digits for values of any size (a loss of 0.0695, an MSE of 1.04e-05).
inline std::string significant(double x) {
  char buf[64];
  if (x != 0 && (std::fabs(x) < 1e-3 || std::fabs(x) >= 1e6))
    std::snprintf(buf, sizeof buf, "%.2e", x);
  else
    std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

// A setting as it was given: up to six significant digits, no trailing zeros (0.999, 0.9999, 3e-05).
inline std::string plain(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

inline std::string percent(double share) { return fixed(100 * share, 1) + " %"; }

inline std::string duration(double seconds) {
  if (seconds < 120) return fixed(seconds, seconds < 10 ? 1 : 0) + " s";
  const auto s = std::int64_t(std::llround(seconds));
  if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  return std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
}

inline std::string count(double x) {
  const std::string digits = std::to_string(std::llround(std::fabs(x)));
  std::string s = x < 0 && std::llround(x) != 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

// Appends `item` to a list in `s`, separated by `separator`.
inline void append(std::string& s, const char* separator, const std::string& item) {
  if (!s.empty()) s += separator;
  s += item;
}

// An optional value in one of the forms above, "—" when absent.
template <class F>
std::string or_dash(const std::optional<double>& x, F&& form) {
  return x ? form(*x) : "—";
}

}  // namespace report
