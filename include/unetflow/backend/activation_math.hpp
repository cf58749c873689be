#pragma once
// The activations' formulas, one value at a time, for host and device code alike (the CPU policy's rows and the CUDA
// kernels use these; GELU's CPU rows have a vectorised form of their own in cpu/activation_rows.hpp). As PyTorch:
//   relu        max(z, 0)                           gradient 1 where z > 0, else 0
//   leaky_relu  z > 0 ? z : slope z                  gradient 1 or slope
//   silu        z sigmoid(z)                         gradient s (1 + z (1 - s))
//   tanh, sigmoid                                    gradients 1 - y^2, s (1 - s)
//   softplus    log(1 + e^z), z past 20: z           gradient sigmoid(z), z past 20: 1 (beta 1, threshold 20)
//   gelu        z Phi(z), the exact erf form
#include <cmath>

#include "common.hpp"

#if defined(__CUDACC__)
#define UNETFLOW_HOST_DEVICE __host__ __device__
#else
#define UNETFLOW_HOST_DEVICE
#endif

namespace unetflow::activation_math {

template <class T>
UNETFLOW_HOST_DEVICE inline T sigmoid(T z) {
  return T(1) / (T(1) + exp(-z));
}

template <class T>
UNETFLOW_HOST_DEVICE inline T apply(Activation a, T z) {
  using std::erf, std::exp, std::log1p, std::tanh;
  switch (a.kind) {
    case Activation::gelu:
      return T(0.5) * z * (T(1) + erf(z * T(0.70710678118654752440)));
    case Activation::relu:
      return z > T(0) ? z : T(0);
    case Activation::leaky_relu:
      return z > T(0) ? z : z * T(a.slope);
    case Activation::silu:
      return z * sigmoid(z);
    case Activation::tanh:
      return tanh(z);
    case Activation::sigmoid:
      return sigmoid(z);
    case Activation::softplus:
      return z > T(20) ? z : log1p(exp(z));
    default:
      return z;
  }
}

// dy/dz at z.
template <class T>
UNETFLOW_HOST_DEVICE inline T derivative(Activation a, T z) {
  using std::erf, std::exp, std::tanh;
  switch (a.kind) {
    case Activation::gelu:
      return T(0.5) * (T(1) + erf(z * T(0.70710678118654752440))) + z * exp(T(-0.5) * z * z) * T(0.39894228040143268);
    case Activation::relu:
      return z > T(0) ? T(1) : T(0);
    case Activation::leaky_relu:
      return z > T(0) ? T(1) : T(a.slope);
    case Activation::silu: {
      const T s = sigmoid(z);
      return s * (T(1) + z * (T(1) - s));
    }
    case Activation::tanh: {
      const T t = tanh(z);
      return T(1) - t * t;
    }
    case Activation::sigmoid: {
      const T s = sigmoid(z);
      return s * (T(1) - s);
    }
    case Activation::softplus:
      return z > T(20) ? T(1) : sigmoid(z);
    default:
      return T(1);
  }
}

}  // namespace unetflow::activation_math
