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

// An element-wise activation: the activation layers (layers/activation.hpp) and the one a fused kernel applies after
// BatchNorm (ConvBnAct). `Activation::gelu` converts to an Activation; slope is LeakyReLU's negative slope.
struct Activation {
  enum Kind : std::uint8_t { none, gelu, relu, leaky_relu, silu, tanh, sigmoid, softplus };
  Kind kind = none;
  float slope = 0.01f;
  constexpr Activation() = default;
  constexpr Activation(Kind k, float negative_slope = 0.01f) : kind(k), slope(negative_slope) {}
  friend constexpr bool operator==(Activation a, Activation b) {
    return a.kind == b.kind && (a.kind != leaky_relu || a.slope == b.slope);
  }
};

// The element-wise losses of elementwise_loss (backend/loss_math.hpp has their formulas).
enum class ElementLoss : std::uint8_t { l1, smooth_l1, bce_with_logits, bce };

// What a recorded step depends on besides its code: the addresses of its inputs and the batch size.
using StepKey = std::initializer_list<std::uintptr_t>;
inline std::uintptr_t key_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

}  // namespace unetflow
