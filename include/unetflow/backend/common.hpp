#pragma once
// What every backend policy shares: convolution geometry, the per-sample epilogue of a convolution, the activation
// a fused kernel applies, and the key a captured step is replayed under.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

namespace unetflow {

// Geometry of a convolution: input (ci, hi, wi) -> output (co, ho, wo) with a k x k kernel, stride s, padding p.
// A transposed convolution uses the geometry of the convolution it is the transpose of.
struct ConvGeom {
  int ci, hi, wi, co, ho, wo, k, s, p;
  std::ptrdiff_t col_rows() const { return std::ptrdiff_t(ci) * k * k; }
  std::ptrdiff_t col_cols() const { return std::ptrdiff_t(ho) * wo; }
};

// What a convolution runs on each sample once that sample's output is final (Backend::conv_epilogues): a
// non-owning reference to a callable `void(int sample)`, so that the convolution paths are compiled once, not once
// per caller. The callable must outlive the convolution call.
class SampleEpilogue {
 public:
  SampleEpilogue() = default;
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, SampleEpilogue> && std::is_invocable_v<F&, int>) SampleEpilogue(F& f)
      : context_(&f), call_([](void* c, int s) { (*static_cast<F*>(c))(s); }) {}
  explicit operator bool() const { return call_ != nullptr; }
  void operator()(int sample) const { call_(context_, sample); }

 private:
  void* context_ = nullptr;
  void (*call_)(void*, int) = nullptr;
};

// The activation fused into BatchNorm's pass (BatchNorm2d then GELU).
enum class Activation { none, gelu };

// What a recorded step depends on besides its code: the addresses of its inputs and the batch size.
using StepKey = std::initializer_list<std::uintptr_t>;
inline std::uintptr_t key_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

}  // namespace unetflow
