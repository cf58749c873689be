#pragma once
// Which of cuDNN's ranked convolution algorithms the cuDNN engine may take (src/cuda/cudnn.cu), apart from cuDNN's
// types so that tests/cuda_layout_test.cpp checks it on the host: deterministic, within the workspace, and of a
// math the backend promises. FP32 means FMA (or cuDNN's default, which is FMA for float data); TF32 allows tensor
// cores too, but never the down-conversion to FP16 (CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION): that is another
// precision than the one asked for, 11 bits of mantissa against TF32's 10 only by luck of the rounding.
#include <cstddef>

namespace unetflow::cudnn_rules {

enum class Math { fma, default_math, tensor_op, tensor_op_allow_conversion };

inline bool math_allowed(Math m, bool tf32) {
  return m == Math::fma || m == Math::default_math || (tf32 && m == Math::tensor_op);
}

inline bool algorithm_allowed(bool succeeded, bool deterministic, std::size_t memory, std::size_t workspace_limit,
                              Math m, bool tf32) {
  return succeeded && deterministic && memory <= workspace_limit && math_allowed(m, tf32);
}

}  // namespace unetflow::cudnn_rules
