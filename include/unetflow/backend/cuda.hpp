#pragma once
// The CUDA policy: the same static interface as `cpu`, over device memory, on one stream of the current device.
// cuBLAS does every GEMM (FP32 by default; set_tf32(true) allows TF32 tensor cores); convolutions are im2col and
// cuBLAS, or cuDNN's (set_conv_engine); the other kernels are ours.
// Declarations only: this header is plain C++ (layers, models and examples compile with the host compiler);
// the definitions are compiled once by nvcc into the `unetflow::cuda` library (src/cuda/).
//
// Graph records a step the first time its shapes and buffers are stable and replays it afterwards as a CUDA
// Graph (one launch instead of hundreds). Any device allocation or free (or change of math mode or convolution
// engine) invalidates every recording, so a replay never touches a buffer that has moved or gone;
// UNETFLOW_CUDA_GRAPHS=0 turns recording off.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../tensor.hpp"
#include "backend.hpp"
#include "common.hpp"
#include "recorded_step.hpp"

namespace unetflow {

struct cuda {
  using scalar = float;
  using T = float;
  static constexpr const char* name = "cuda";
  static constexpr bool host_accessible = false;
  static constexpr bool conv_epilogues = false;  // a host callback per sample would stall the stream
  using Activation = unetflow::Activation;

  // ---- the device ---------------------------------------------------------------------------------------
  static bool available();             // a CUDA device is present and usable
  static std::string device_name();    // e.g. "NVIDIA H200"; throws Error without a device
  static void synchronize();           // waits for the backend's stream
  static void* native_stream();        // the backend's cudaStream_t (for libraries that take one, such as NCCL)
  static void set_tf32(bool allowed);  // TF32 tensor-core math in cuBLAS and cuDNN (off by default)
  static bool tf32();
  // Convolution engines: im2col + cuBLAS (ours, the default) or cuDNN's (where the build found cuDNN). Both are
  // deterministic and agree to rounding. UNETFLOW_CUDA_CONV=im2col|cudnn sets the engine at start-up.
  enum class ConvEngine { im2col, cudnn };
  static bool has_cudnn();
  static void set_conv_engine(ConvEngine engine);  // throws Error for cudnn where has_cudnn() is false
  static ConvEngine conv_engine();

  // ---- memory -------------------------------------------------------------------------------------------
  static void* allocate_bytes(std::size_t bytes);
  static void deallocate_bytes(void* p);
  // Changes with every device allocation, free and math-mode change: recordings made under another value are stale.
  static std::uint64_t generation();
  template <class U>
  static U* allocate(std::ptrdiff_t n) {
    return static_cast<U*>(allocate_bytes(std::size_t(n > 0 ? n : 1) * sizeof(U)));
  }
  template <class U>
  static void deallocate(U* p) {
    deallocate_bytes(static_cast<void*>(const_cast<std::remove_const_t<U>*>(p)));
  }
  static void fill(T* p, std::ptrdiff_t n, T v);
  static void copy(const T* src, T* dst, std::ptrdiff_t n);
  static void to_host(const T* src, T* dst, std::ptrdiff_t n);
  static void from_host(const T* src, T* dst, std::ptrdiff_t n);
  static double read(const double* p);

  // One stream: every use has slot 0, except activations, whose slot is the chain depth (up to max_slots - 1).
  static constexpr int max_slots = 8;
  enum class Use { columns, partial_sums, tile, weights, activations, count_ };
  static T* scratch(Use use, int slot, std::ptrdiff_t n);
  // Block outputs that backward recomputes instead of keeping: one buffer per chain depth (see blocks/chain.hpp).
  static T* activation_scratch(int depth, std::ptrdiff_t n) { return scratch(Use::activations, depth, n); }
  static int threads() { return 1; }

  // ---- GEMM: C = alpha * op(A) * op(B) + beta * C, row-major --------------------------------------------
  static void gemm(bool ta, bool tb, int M, int N, int K, T alpha, const T* A, int lda, const T* B, int ldb, T beta,
                   T* C, int ldc);

  // ---- convolution (weights w[co][ci][k][k]) ------------------------------------------------------------
  // Without conv_epilogues the epilogue argument is only there for the contract: a non-empty one is refused.
  static void conv_forward(Strided<const T> x, const T* w, Strided<T> y, int n, const ConvGeom& g, bool accumulate,
                           SampleEpilogue done = {});
  static void conv_backward_data(Strided<const T> dy, const T* w, Strided<T> dx, int n, const ConvGeom& g,
                                 bool accumulate, SampleEpilogue done = {});
  static void conv_backward_weight(Strided<const T> x, Strided<const T> dy, T* dw, int n, const ConvGeom& g);

  // ---- per-channel bias and batch normalisation ---------------------------------------------------------
  static void add_channel_bias(Strided<T> y, int n, int C, int plane, const T* b);
  static void channel_sums(Strided<const T> y, int n, int C, int plane, T* out_accumulate);
  static void bn_stats(Strided<const T> x, int n, int C, int plane, T* mean, T* var);
  static void bn_prepare(T* mean, T* var_invstd, T* running_mean, T* running_var, int C, double count, double momentum,
                         double eps, bool training);
  static void bn_apply(Strided<const T> x, Strided<T> y, int n, int C, int plane, const T* mean, const T* invstd,
                       const T* gamma, const T* beta, Activation act = Activation::none);
  static void bn_backward(Strided<const T> x, Strided<T> g, int n, int C, int plane, const T* mean, const T* invstd,
                          const T* gamma, const T* beta, T* dgamma, T* dbeta, bool batch_stats,
                          Activation act = Activation::none);

  // ---- element-wise -------------------------------------------------------------------------------------
  static void activation_forward(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len, Activation act);
  static void activation_backward(Strided<const T> x, Strided<T> g, int n, std::ptrdiff_t len, Activation act);
  static void copy_rows(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len);
  static void add_rows(Strided<const T> x, Strided<T> y, int n, std::ptrdiff_t len);
  static void blend(T* y, const T* x, std::ptrdiff_t len, T a, T b);
  static void avgpool_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int k);
  static void avgpool_backward(Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w, int k, bool accumulate);
  static void maxpool_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int k, int s, int p);
  static void maxpool_backward(Strided<const T> x, Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w,
                               int k, int s, int p, bool accumulate);
  static void upsample_forward(Strided<const T> x, Strided<T> y, int n, int C, int h, int w, int f, bool bilinear);
  static void upsample_backward(Strided<const T> dy, Strided<T> dx, int n, int C, int h, int w, int f, bool bilinear,
                                bool accumulate);
  static void channel_mean(Strided<const T> x, Strided<T> y, int n, int C, int plane);
  static void channel_broadcast(Strided<const T> dy, Strided<T> dx, int n, int C, int plane, T scale, bool accumulate);
  static void dropout_mask(T* mask, std::ptrdiff_t len, double p, std::uint64_t seed, std::uint64_t draw);
  static void embedding_forward(const T* index, const T* weight, Strided<T> y, int n, int dim);
  static void embedding_backward(const T* index, Strided<const T> dy, T* dweight, int n, int dim, int rows);
  static void modulate_forward(Strided<const T> h, Strided<const T> scale, Strided<const T> shift, Strided<T> y, int n,
                               int C, int plane);
  static void modulate_backward(Strided<const T> h, Strided<const T> scale, Strided<const T> dy, Strided<T> dh,
                                Strided<T> dscale, Strided<T> dshift, int n, int C, int plane);
  static void softmax_rows(T* x, std::ptrdiff_t rows, std::ptrdiff_t len);
  static void softmax_backward_rows(const T* a, T* g, std::ptrdiff_t rows, std::ptrdiff_t len);
  static void log_softmax_rows(const T* x, T* y, std::ptrdiff_t rows, std::ptrdiff_t len);
  static void log_softmax_backward_rows(const T* y, T* g, std::ptrdiff_t rows, std::ptrdiff_t len);
  static void mse(Strided<const T> pred, Strided<const T> target, Strided<T> grad, int n, std::ptrdiff_t len,
                  double* loss);
  static void elementwise_loss(ElementLoss kind, Strided<const T> pred, Strided<const T> target, Strided<T> grad, int n,
                               std::ptrdiff_t len, double beta, double scale, double* loss);
  static void interpolate(Strided<const T> x0, Strided<const T> x1, const T* t, Strided<T> xt, Strided<T> target, int n,
                          std::ptrdiff_t len);
  static void adam_update(T* p, const T* g, T* m, T* v, std::ptrdiff_t len, double lr, double beta1, double beta2,
                          double eps, double weight_decay, long step);
  static void sgd_update(T* p, const T* g, T* buf, std::ptrdiff_t len, double lr, double momentum, double dampening,
                         double weight_decay, bool nesterov, bool first);
  static void rmsprop_update(T* p, const T* g, T* square_avg, T* grad_avg, T* buf, std::ptrdiff_t len, double lr,
                             double alpha, double eps, double weight_decay, double momentum, bool centered);
  static void adadelta_update(T* p, const T* g, T* square_avg, T* acc_delta, std::ptrdiff_t len, double lr, double rho,
                              double eps, double weight_decay);
  static void sum_squares(const T* x, std::ptrdiff_t len, double* out, bool accumulate);

  // ---- recorded steps -----------------------------------------------------------------------------------
  // CUDA Graphs under the rule of backend/recorded_step.hpp (eager, record, replay; a failed recording falls
  // back to eager runs). UNETFLOW_CUDA_GRAPHS=0 turns recording off.
  struct GraphDevice {
    std::uint64_t generation() const { return cuda::generation(); }
    bool enabled() const;
    void begin();
    void end();
    void abort() noexcept;
    void launch();
    void discard() noexcept;
    void* exec = nullptr;  // cudaGraphExec_t
  };
  class Graph {
   public:
    template <class F>
    int run(StepKey key, F&& f) {
      return step_.run(key, std::forward<F>(f));
    }
    template <class F, class Snapshot>
    int run(StepKey key, F&& f, Snapshot&& snapshot) {
      return step_.run(key, std::forward<F>(f), std::forward<Snapshot>(snapshot));
    }
    const RecordedStepStatistics& statistics() const { return step_.statistics(); }

   private:
    RecordedStep<GraphDevice> step_;
  };
};

static_assert(check_backend<cuda>() && Backend<cuda>);

}  // namespace unetflow
