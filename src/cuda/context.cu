// The CUDA backend's context, memory, GEMM and recorded steps.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "detail.cuh"

namespace unetflow {
namespace cuda_detail {

cuda::ConvEngine engine_from_environment() {
  const char* v = std::getenv("UNETFLOW_CUDA_CONV");
  if (!v || !*v || std::strcmp(v, "im2col") == 0) return cuda::ConvEngine::im2col;
  if (std::strcmp(v, "cudnn") != 0)
    throw Error(std::string("UNETFLOW_CUDA_CONV=") + v + ": the convolution engine is im2col or cudnn.");
  if (!cudnn_available())
    throw Error("UNETFLOW_CUDA_CONV=cudnn: this build of unetflow has no cuDNN (CMake found none; see UNETFLOW_CUDNN_ROOT).");
  return cuda::ConvEngine::cudnn;
}

Context& context() {
  static Context* ctx = [] {
    const cuda::ConvEngine engine = engine_from_environment();  // a bad value stops before anything is created
    int devices = 0;
    const cudaError_t e = cudaGetDeviceCount(&devices);
    if (e != cudaSuccess || devices == 0)
      throw Error(std::string("the CUDA backend needs a GPU, and none is usable here (") +
                  (e != cudaSuccess ? cudaGetErrorString(e) : "no device") + "); run with --device cpu.");
    auto* c = new Context;  // never destroyed: buffers freed at exit must still find their stream
    check(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cublasCreate(&c->blas), "cublasCreate");
    check(cublasSetStream(c->blas, c->stream), "cublasSetStream");
    // A fixed workspace keeps cuBLAS from allocating inside a recorded step.
    constexpr std::size_t workspace = std::size_t(32) << 20;
    check(cudaMalloc(&c->blas_workspace, workspace), "cudaMalloc (cuBLAS workspace)");
    check(cublasSetWorkspace(c->blas, c->blas_workspace, workspace), "cublasSetWorkspace");
    check(cublasSetMathMode(c->blas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    c->conv = engine;
    return c;
  }();
  return *ctx;
}

std::atomic<std::uint64_t>& generation_counter() {
  static std::atomic<std::uint64_t> n{0};
  return n;
}

__global__ void fill_kernel(T* p, std::ptrdiff_t n, T v) {
  UNETFLOW_FOR(i, n) p[i] = v;
}

}  // namespace cuda_detail

using namespace cuda_detail;

bool cuda::available() {
  int devices = 0;
  return cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
}
std::string cuda::device_name() {
  context();
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return prop.name;
}
void cuda::synchronize() { check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize"); }
void* cuda::native_stream() { return static_cast<void*>(stream()); }
void cuda::set_tf32(bool allowed) {
  auto& c = context();
  check(cublasSetMathMode(c.blas, allowed ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  c.tf32 = allowed;
  ++generation_counter();  // recorded GEMMs keep the math mode they were recorded with
}
bool cuda::tf32() { return context().tf32; }
bool cuda::has_cudnn() { return cudnn_available(); }
void cuda::set_conv_engine(ConvEngine engine) {
  if (engine == ConvEngine::cudnn && !cudnn_available())
    throw Error("cuda::set_conv_engine: this build of unetflow has no cuDNN (CMake found none; see UNETFLOW_CUDNN_ROOT).");
  context().conv = engine;
  ++generation_counter();  // recorded convolutions keep the engine they were recorded with
}
cuda::ConvEngine cuda::conv_engine() { return context().conv; }

void* cuda::allocate_bytes(std::size_t bytes) {
  context();
  void* p = nullptr;
  check(cudaMalloc(&p, bytes), "cudaMalloc");
  ++generation_counter();
  return p;
}
void cuda::deallocate_bytes(void* p) {
  if (!p) return;
  // A recording that used this buffer must not be replayed, even if nothing is allocated at its address again.
  ++generation_counter();
  // Freeing synchronises the device, which a stream being recorded forbids: such frees wait for the next one
  // outside a recording (the recording itself fails and is abandoned, since the generation moved).
  static auto& deferred = *new std::vector<void*>;  // never destroyed: frees run at exit too
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(stream(), &capturing) == cudaSuccess && capturing != cudaStreamCaptureStatusNone) {
    deferred.push_back(p);
    return;
  }
  deferred.push_back(p);
  cudaError_t e = cudaStreamSynchronize(stream());
  for (void* q : deferred)
    if (const cudaError_t f = cudaFree(q); e == cudaSuccess) e = f;
  deferred.clear();
  // Frees run in destructors, which cannot throw. At exit the driver may already have gone (nothing to report);
  // any other error is a fault of some earlier kernel, and every later check of the backend will throw it too.
  if (e != cudaSuccess && e != cudaErrorCudartUnloading && e != cudaErrorContextIsDestroyed) {
    static bool said = false;
    if (!said)
      std::fprintf(stderr, "unetflow: CUDA: freeing device memory failed: %s (an earlier kernel faulted; "
                           "UNETFLOW_CUDA_SYNC=1 names the kernel).\n", cudaGetErrorString(e));
    said = true;
  }
}
std::uint64_t cuda::generation() { return generation_counter().load(); }

void cuda::fill(T* p, std::ptrdiff_t n, T v) {
  if (n <= 0) return;
  fill_kernel<<<grid_for(n), block, 0, stream()>>>(p, n, v);
  launched("fill");
}
void cuda::copy(const T* src, T* dst, std::ptrdiff_t n) {
  if (n <= 0 || src == dst) return;
  check(cudaMemcpyAsync(dst, src, std::size_t(n) * sizeof(T), cudaMemcpyDeviceToDevice, stream()), "cudaMemcpyAsync (device to device)");
}
void cuda::to_host(const T* src, T* dst, std::ptrdiff_t n) {
  if (n <= 0) return;
  check(cudaMemcpyAsync(dst, src, std::size_t(n) * sizeof(T), cudaMemcpyDeviceToHost, stream()), "cudaMemcpyAsync (device to host)");
  synchronize();
}
void cuda::from_host(const T* src, T* dst, std::ptrdiff_t n) {
  if (n <= 0) return;
  check(cudaMemcpyAsync(dst, src, std::size_t(n) * sizeof(T), cudaMemcpyHostToDevice, stream()), "cudaMemcpyAsync (host to device)");
  synchronize();  // the host buffer may be reused as soon as this returns
}
double cuda::read(const double* p) {
  double v = 0;
  check(cudaMemcpyAsync(&v, p, sizeof v, cudaMemcpyDeviceToHost, stream()), "cudaMemcpyAsync (device to host)");
  synchronize();
  return v;
}

cuda::T* cuda::scratch(Use use, int slot, std::ptrdiff_t n) {
  struct Slot {
    T* data = nullptr;
    std::ptrdiff_t capacity = 0;
  };
  if (slot < 0 || slot >= max_slots || (slot > 0 && use != Use::activations))
    throw std::invalid_argument("cuda::scratch: slot " + std::to_string(slot) +
                                " is out of range (activations take 0-7, other uses 0; blocks nest at most 8 chains deep)");
  static std::vector<Slot> slots(std::size_t(Use::count_) * max_slots);
  Slot& s = slots[std::size_t(use) * max_slots + std::size_t(slot)];
  if (n > s.capacity) {
    deallocate(s.data);
    s.data = allocate<T>(n);
    s.capacity = n;
  }
  return s.data;
}

void cuda::gemm(bool ta, bool tb, int M, int N, int K, T alpha, const T* A, int lda, const T* B, int ldb, T beta,
                T* C, int ldc) {
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands, keep the flags.
  check(cublasSgemm(context().blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha,
                    B, ldb, A, lda, &beta, C, ldc),
        "cublasSgemm");
}

// ---- recorded steps -------------------------------------------------------------------------------------
bool cuda::GraphDevice::enabled() const {
  static const bool on = [] {
    const char* v = std::getenv("UNETFLOW_CUDA_GRAPHS");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  return on;
}
void cuda::GraphDevice::begin() {
  check(cudaStreamBeginCapture(stream(), cudaStreamCaptureModeRelaxed), "cudaStreamBeginCapture");
}
void cuda::GraphDevice::abort() noexcept {
  cudaGraph_t g = nullptr;
  cudaStreamEndCapture(stream(), &g);  // ends a capture the stream may still be in; its error, if any, is the cause
  if (g) cudaGraphDestroy(g);
  cudaGetLastError();  // clears a non-sticky error the failed capture left
}
void cuda::GraphDevice::end() {
  cudaGraph_t g = nullptr;
  check(cudaStreamEndCapture(stream(), &g), "cudaStreamEndCapture");
  cudaGraphExec_t e = nullptr;
  const cudaError_t status = cudaGraphInstantiate(&e, g, 0);
  cudaGraphDestroy(g);
  check(status, "cudaGraphInstantiate");
  discard();
  exec = e;
}
void cuda::GraphDevice::launch() {
  check(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec), stream()), "cudaGraphLaunch");
}
void cuda::GraphDevice::discard() noexcept {
  if (exec) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec));
  exec = nullptr;
}

}  // namespace unetflow
