// The cuDNN convolution engine (cuda::ConvEngine::cudnn), built where CMake found cuDNN: cuDNN's convolution API
// on the backend's stream, the whole batch at once (strided batches as they are). For each shape, cuDNN's
// heuristics rank the algorithms and the first deterministic one that keeps to the math mode (FMA only, unless
// TF32 is allowed) and to the workspace limit is kept, with its descriptors. The workspace is the backend's column scratch, so that once
// the first (eager) step has sized it, nothing is allocated inside a recorded step.
#include <cudnn.h>

#include <array>
#include <map>
#include <string>

#include "cudnn_rules.hpp"
#include "detail.cuh"

namespace unetflow::cuda_detail {
namespace {

void check(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS) throw Error(std::string("cuDNN: ") + what + " failed: " + cudnnGetErrorString(s) + ".");
}

cudnnHandle_t handle() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t created = nullptr;
    check(cudnnCreate(&created), "cudnnCreate");
    check(cudnnSetStream(created, stream()), "cudnnSetStream");
    return created;
  }();
  return h;
}

constexpr std::size_t workspace_limit = std::size_t(1) << 30;

enum class Direction { forward, backward_data, backward_weight };

// Descriptors of one convolution over a batch: x (input), y (output), w, and the algorithm chosen for a direction.
struct Plan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  int algorithm = 0;
  std::size_t workspace = 0;
};

// The first algorithm of cuDNN's ranking that is deterministic, fits the workspace and, without TF32, needs no
// tensor cores (it then runs with FMA math only, as PyTorch's FP32 convolutions do).
cudnn_rules::Math math_of(cudnnMathType_t m) {
  switch (m) {
    case CUDNN_FMA_MATH:
      return cudnn_rules::Math::fma;
    case CUDNN_DEFAULT_MATH:
      return cudnn_rules::Math::default_math;
    case CUDNN_TENSOR_OP_MATH:
      return cudnn_rules::Math::tensor_op;
    default:
      return cudnn_rules::Math::tensor_op_allow_conversion;  // and any newer kind: refused
  }
}

template <class Perf>
const Perf& choose(const Perf* ranked, int found, bool tf32, const char* direction) {
  for (int i = 0; i < found; ++i) {
    const Perf& p = ranked[i];
    if (cudnn_rules::algorithm_allowed(p.status == CUDNN_STATUS_SUCCESS, p.determinism == CUDNN_DETERMINISTIC,
                                       p.memory, workspace_limit, math_of(p.mathType), tf32))
      return p;
  }
  throw Error(std::string("cuDNN offers no deterministic ") + (tf32 ? "" : "FP32 (FMA) ") + direction +
              " algorithm for this convolution within " + std::to_string(workspace_limit >> 20) +
              " MiB of workspace; use the im2col engine (UNETFLOW_CUDA_CONV=im2col).");
}

Plan& plan(Direction d, const ConvGeom& g, int n, std::ptrdiff_t x_stride, std::ptrdiff_t y_stride) {
  static auto& plans = *new std::map<std::array<std::ptrdiff_t, 14>, Plan>;  // never destroyed: used at exit too
  const bool tf32 = context().tf32;
  const std::array<std::ptrdiff_t, 14> key{int(d), g.ci, g.hi, g.wi, g.co, g.ho, g.wo, g.k, g.s, g.p, n, x_stride, y_stride, tf32};
  if (auto it = plans.find(key); it != plans.end()) return it->second;
  if (!cuda_layout::fits_index(x_stride) || !cuda_layout::fits_index(y_stride))
    throw Error("cuda (cuDNN): a sample of over 2^30 elements is beyond cuDNN's 32-bit strides.");
  Plan p;
  check(cudnnCreateTensorDescriptor(&p.x), "cudnnCreateTensorDescriptor");
  check(cudnnCreateTensorDescriptor(&p.y), "cudnnCreateTensorDescriptor");
  check(cudnnCreateFilterDescriptor(&p.w), "cudnnCreateFilterDescriptor");
  check(cudnnCreateConvolutionDescriptor(&p.conv), "cudnnCreateConvolutionDescriptor");
  check(cudnnSetTensor4dDescriptorEx(p.x, CUDNN_DATA_FLOAT, n, g.ci, g.hi, g.wi, int(x_stride), g.hi * g.wi, g.wi, 1),
        "cudnnSetTensor4dDescriptorEx (input)");
  check(cudnnSetTensor4dDescriptorEx(p.y, CUDNN_DATA_FLOAT, n, g.co, g.ho, g.wo, int(y_stride), g.ho * g.wo, g.wo, 1),
        "cudnnSetTensor4dDescriptorEx (output)");
  check(cudnnSetFilter4dDescriptor(p.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, g.co, g.ci, g.k, g.k), "cudnnSetFilter4dDescriptor");
  // Cross-correlation, as PyTorch's (and our im2col's) "convolution".
  check(cudnnSetConvolution2dDescriptor(p.conv, g.p, g.p, g.s, g.s, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
        "cudnnSetConvolution2dDescriptor");
  check(cudnnSetConvolutionMathType(p.conv, tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
  auto use = [&](const auto& chosen) {
    p.algorithm = int(chosen.algo);
    check(cudnnSetConvolutionMathType(p.conv, tf32 ? chosen.mathType : CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
  };
  int found = 0;
  if (d == Direction::forward) {
    cudnnConvolutionFwdAlgoPerf_t ranked[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    check(cudnnGetConvolutionForwardAlgorithm_v7(handle(), p.x, p.w, p.conv, p.y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                 &found, ranked),
          "cudnnGetConvolutionForwardAlgorithm_v7");
    use(choose(ranked, found, tf32, "forward"));
    check(cudnnGetConvolutionForwardWorkspaceSize(handle(), p.x, p.w, p.conv, p.y,
                                                  cudnnConvolutionFwdAlgo_t(p.algorithm), &p.workspace),
          "cudnnGetConvolutionForwardWorkspaceSize");
  } else if (d == Direction::backward_data) {
    cudnnConvolutionBwdDataAlgoPerf_t ranked[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    check(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle(), p.w, p.y, p.conv, p.x,
                                                      CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &found, ranked),
          "cudnnGetConvolutionBackwardDataAlgorithm_v7");
    use(choose(ranked, found, tf32, "data-gradient"));
    check(cudnnGetConvolutionBackwardDataWorkspaceSize(handle(), p.w, p.y, p.conv, p.x,
                                                       cudnnConvolutionBwdDataAlgo_t(p.algorithm), &p.workspace),
          "cudnnGetConvolutionBackwardDataWorkspaceSize");
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t ranked[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    check(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle(), p.x, p.y, p.conv, p.w,
                                                        CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &found, ranked),
          "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
    use(choose(ranked, found, tf32, "weight-gradient"));
    check(cudnnGetConvolutionBackwardFilterWorkspaceSize(handle(), p.x, p.y, p.conv, p.w,
                                                         cudnnConvolutionBwdFilterAlgo_t(p.algorithm), &p.workspace),
          "cudnnGetConvolutionBackwardFilterWorkspaceSize");
  }
  return plans.emplace(key, p).first->second;
}

void* workspace(const Plan& p) {
  return p.workspace ? cuda::scratch(cuda::Use::columns, 0, std::ptrdiff_t((p.workspace + sizeof(T) - 1) / sizeof(T))) : nullptr;
}

}  // namespace

bool cudnn_available() { return true; }

void cudnn_conv_forward(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g, bool accumulate) {
  if (n <= 0) return;
  const Plan& p = plan(Direction::forward, g, n, x.stride, y.stride);
  const float one = 1, beta = accumulate ? 1.f : 0.f;
  check(cudnnConvolutionForward(handle(), &one, p.x, x.data, p.w, w, p.conv, cudnnConvolutionFwdAlgo_t(p.algorithm),
                                workspace(p), p.workspace, &beta, p.y, y.data),
        "cudnnConvolutionForward");
}

void cudnn_conv_backward_data(Strided<const T> dy, const T* w, Strided<T> dx, int n, const ConvGeom& g, bool accumulate) {
  if (n <= 0) return;
  const Plan& p = plan(Direction::backward_data, g, n, dx.stride, dy.stride);
  const float one = 1, beta = accumulate ? 1.f : 0.f;
  check(cudnnConvolutionBackwardData(handle(), &one, p.w, w, p.y, dy.data, p.conv,
                                     cudnnConvolutionBwdDataAlgo_t(p.algorithm), workspace(p), p.workspace, &beta, p.x,
                                     dx.data),
        "cudnnConvolutionBackwardData");
}

void cudnn_conv_backward_weight(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g) {
  if (n <= 0) return;
  const Plan& p = plan(Direction::backward_weight, g, n, x.stride, dy.stride);
  const float one = 1;  // dw accumulates, as the contract says
  check(cudnnConvolutionBackwardFilter(handle(), &one, p.x, x.data, p.y, dy.data, p.conv,
                                       cudnnConvolutionBwdFilterAlgo_t(p.algorithm), workspace(p), p.workspace, &one,
                                       p.w, dw),
        "cudnnConvolutionBackwardFilter");
}

}  // namespace unetflow::cuda_detail
