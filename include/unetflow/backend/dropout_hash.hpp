#pragma once
#include <cmath>
#include <cstdint>

#include "activation_math.hpp"  // UNETFLOW_HOST_DEVICE

namespace unetflow::dropout_hash {

// Dropout's keep test for element i of draw `draw` under `seed`: a counter-based hash (splitmix64's mixer), so
// the CPU and the GPU draw the same mask and a draw depends on nothing but its three numbers. Kept with
// probability 1 - p at 24-bit resolution: the top 24 bits of the hash against threshold = round(p 2^24).
UNETFLOW_HOST_DEVICE inline std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
UNETFLOW_HOST_DEVICE inline bool keep(std::uint64_t seed, std::uint64_t draw, std::uint64_t i,
                                      std::uint32_t threshold) {
  const std::uint64_t stream = mix(seed ^ mix(draw + 0x9E3779B97F4A7C15ull));
  return std::uint32_t(mix(stream + i * 0x9E3779B97F4A7C15ull) >> 40) >= threshold;
}
inline std::uint32_t keep_threshold(double p) { return std::uint32_t(std::llround(p * double(1u << 24))); }

}  // namespace unetflow::dropout_hash
