#pragma once
// Seeded random streams: xoshiro256** seeded by splitmix64 from (seed, stream). The whole state is four words
// plus a cached normal, so a checkpoint can store it and a resumed run draws exactly the same numbers.
#include <array>
#include <cmath>
#include <cstdint>
#include <string>

#include "error.hpp"

namespace unetflow {

class Rng {
 public:
  struct State {
    std::array<std::uint64_t, 4> s;
    double cached_normal;
    bool has_cached;
  };

  explicit Rng(std::uint64_t seed = 0, std::uint64_t stream = 0) {
    std::uint64_t z = seed ^ (0x9E3779B97F4A7C15ull * (stream + 1));
    for (auto& w : state_.s) w = splitmix64(z);
    state_.cached_normal = 0;
    state_.has_cached = false;
  }

  std::uint64_t next_u64() {
    auto& s = state_.s;
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  double normal() {
    if (state_.has_cached) {
      state_.has_cached = false;
      return state_.cached_normal;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform(), r = std::sqrt(-2.0 * std::log(u1)), a = 2.0 * M_PI * u2;
    state_.cached_normal = r * std::sin(a);
    state_.has_cached = true;
    return r * std::cos(a);
  }
  bool bernoulli(double p) { return uniform() < p; }
  // Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : std::uint64_t(uniform() * double(n)) % n; }

  template <class T>
  void fill_normal(T* p, std::ptrdiff_t n, double mean = 0, double std = 1) {
    for (std::ptrdiff_t i = 0; i < n; ++i) p[i] = T(mean + std * normal());
  }
  template <class T>
  void fill_uniform(T* p, std::ptrdiff_t n, double lo = 0, double hi = 1) {
    for (std::ptrdiff_t i = 0; i < n; ++i) p[i] = T(uniform(lo, hi));
  }

  const State& state() const { return state_; }
  // Why a state cannot be drawn from ("" when it can): all-zero words (xoshiro then gives zeros for ever, and the
  // normal draw would wait for ever for a non-zero uniform), or a cached normal that is not a finite number.
  static std::string unusable(const State& s) {
    if (s.s[0] == 0 && s.s[1] == 0 && s.s[2] == 0 && s.s[3] == 0)
      return "its four state words are all zero, from which the generator draws only zeros";
    if (s.has_cached && !std::isfinite(s.cached_normal)) return "its cached normal value is not a finite number";
    return "";
  }
  // Throws Error (naming `source`) for a state that cannot be drawn from, so that no draw loop can spin.
  void set_state(const State& s, const std::string& source = "a random-stream state") {
    if (const auto why = unusable(s); !why.empty()) throw Error(source + ": " + why + ".");
    state_ = s;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& z) {
    std::uint64_t r = (z += 0x9E3779B97F4A7C15ull);
    r = (r ^ (r >> 30)) * 0xBF58476D1CE4E5B9ull;
    r = (r ^ (r >> 27)) * 0x94D049BB133111EBull;
    return r ^ (r >> 31);
  }
  State state_;
};

}  // namespace unetflow
