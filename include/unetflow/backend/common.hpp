#pragma once
// What every backend policy shares: convolution geometry, the activation a fused kernel applies, and the key a
// captured step is replayed under.
#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace unetflow {

// Geometry of a convolution: input (ci, hi, wi) -> output (co, ho, wo) with a k x k kernel, stride s, padding p.
// A transposed convolution uses the geometry of the convolution it is the transpose of.
struct ConvGeom {
  int ci, hi, wi, co, ho, wo, k, s, p;
  std::ptrdiff_t col_rows() const { return std::ptrdiff_t(ci) * k * k; }
  std::ptrdiff_t col_cols() const { return std::ptrdiff_t(ho) * wo; }
};

// The activation fused into BatchNorm's pass (BatchNorm2d then GELU).
enum class Activation { none, gelu };

// What a recorded step depends on besides its code: the addresses of its inputs and the batch size.
using StepKey = std::initializer_list<std::uintptr_t>;
inline std::uintptr_t key_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

}  // namespace unetflow
