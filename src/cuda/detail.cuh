#pragma once
// What the CUDA backend's translation units share: the context (stream, cuBLAS handle), error checks, launch
// geometry (index arithmetic in layout.hpp) and a deterministic block reduction.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdlib>
#include <string>

#include <unetflow/backend/activation_math.hpp>
#include <unetflow/backend/cuda.hpp>
#include <unetflow/error.hpp>

#include "layout.hpp"

namespace unetflow::cuda_detail {

using T = float;

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Error(std::string("CUDA: ") + what + " failed: " + cudaGetErrorString(e) + ".");
}
inline void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string("cuBLAS: ") + what + " failed with status " + std::to_string(int(s)) + ".");
}

struct Context {
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  void* blas_workspace = nullptr;
  bool tf32 = false;
  cuda::ConvEngine conv = cuda::ConvEngine::im2col;  // UNETFLOW_CUDA_CONV at start-up
};
Context& context();  // created on first use; throws Error when there is no device
inline cudaStream_t stream() { return context().stream; }

// The cuDNN convolution engine (cudnn.cu, or no_cudnn.cu where the build found no cuDNN); the same contract as
// the policy's convolutions, without epilogues.
bool cudnn_available();
void cudnn_conv_forward(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g, bool accumulate);
void cudnn_conv_backward_data(Strided<const T> dy, const T* w, Strided<T> dx, int n, const ConvGeom& g, bool accumulate);
void cudnn_conv_backward_weight(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g);

constexpr int block = 256;
inline unsigned grid_for(std::ptrdiff_t n) {
  const std::ptrdiff_t blocks = (n + block - 1) / block;
  return unsigned(blocks < 1 ? 1 : (blocks > 65535 * 16 ? 65535 * 16 : blocks));
}
// UNETFLOW_CUDA_SYNC=1: every launch outside a recording is waited for and checked, so that a fault (an illegal
// address) is reported by the kernel that made it rather than at some later synchronisation.
inline bool sync_after_launch() {
  static const bool on = [] {
    const char* v = std::getenv("UNETFLOW_CUDA_SYNC");
    return v && std::string(v) == "1";
  }();
  return on;
}
inline void launched(const char* kernel) {
  check(cudaGetLastError(), kernel);
  if (!sync_after_launch()) return;
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  check(cudaStreamIsCapturing(stream(), &capturing), "cudaStreamIsCapturing");
  if (capturing == cudaStreamCaptureStatusNone) check(cudaStreamSynchronize(stream()), kernel);
}

// Grid-stride loop over [0, n) in 64-bit indices (for loops whose body divides nothing).
#define UNETFLOW_FOR(i, n) \
  for (std::ptrdiff_t i = std::ptrdiff_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); i += std::ptrdiff_t(gridDim.x) * blockDim.x)

// Two-dimensional grid-stride loops (layout.hpp): rows over blockIdx.y, 32-bit indices within a row over x.
#define UNETFLOW_FOR_ROWS(row, rows) for (int row = int(blockIdx.y); row < (rows); row += int(gridDim.y))
#define UNETFLOW_FOR_IN_ROW(i, len) \
  for (int i = int(blockIdx.x * blockDim.x + threadIdx.x); i < (len); i += int(gridDim.x * blockDim.x))

// Throws Error, naming the primitive, when `rows` rows of `len` elements are beyond the kernels' 32-bit index
// range (cuda_layout::fits_index).
inline void check_index_range(std::ptrdiff_t rows, std::ptrdiff_t len, const char* what) {
  if (!cuda_layout::fits_index(rows) || !cuda_layout::fits_index(len))
    throw Error(std::string("cuda::") + what + ": " + std::to_string(rows) + " rows of " + std::to_string(len) +
                " elements exceed the CUDA kernels' 32-bit index range (2^30 per dimension).");
}
// The grid of a two-dimensional loop over `rows` rows of `len` elements, after check_index_range.
inline dim3 grid_2d(std::ptrdiff_t rows, std::ptrdiff_t len, const char* what) {
  check_index_range(rows, len, what);
  const std::ptrdiff_t x = (len + block - 1) / block;
  return dim3(unsigned(x < 1 ? 1 : (x > 8192 ? 8192 : x)), unsigned(rows < 1 ? 1 : (rows > 65535 ? 65535 : rows)));
}

// Sum of v over the block (blockDim.x == block), in a fixed order: deterministic. Every thread gets the result.
template <class V>
__device__ V block_sum(V v) {
  __shared__ V partial[block / 32];
  for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  V total = 0;
  for (int w = 0; w < block / 32; ++w) total += partial[w];
  return total;
}

// Maximum of v over the block (blockDim.x == block). Every thread gets the result.
__device__ inline float block_max(float v) {
  __shared__ float partial[block / 32];
  for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  float top = partial[0];
  for (int w = 1; w < block / 32; ++w) top = fmaxf(top, partial[w]);
  return top;
}

}  // namespace unetflow::cuda_detail
