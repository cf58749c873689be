#pragma once
// The CPU policy: OpenMP over samples (or channels), OpenBLAS or Eigen GEMMs inside, over aligned host buffers.
// It fulfils the contract of backend.hpp; each group of primitives lives in its own room under cpu/:
//   memory.hpp     allocation, transfers (copies), per-thread scratch, Graph (runs the step)
//   gemm.hpp       GEMM
//   conv/          the convolution engine: conv.hpp picks each geometry's path; im2col.hpp, conv_winograd.hpp
//                  (with winograd*.hpp) and direct_conv.hpp are the paths
//   norm.hpp       per-channel bias and batch normalisation
//   pointwise.hpp  activations, row copies, average pooling, modulation, dropout masks, embeddings, losses, flow
//                  interpolation (activation_rows.hpp: the activations' rows)
//   pooling.hpp    max pooling, up-sampling, plane means (adaptive average pooling)
//   optimiser.hpp  the optimisers' updates, weight blending, squared norms
// basic_cpu<double> exists for finite-difference gradient checks.
//
// Header-only by default. A program that links the compiled kernels (CMake target unetflow::cpu_kernels, built
// from src/cpu_kernels.cpp) defines UNETFLOW_CPU_KERNELS_COMPILED: its translation units then call the kernels
// instead of instantiating and optimising them again (about 8 s of compile time per translation unit). Every
// primitive that loops over data is therefore defined out of class in its room: GCC instantiates in-class (inline)
// members even under `extern template`.
#include "backend.hpp"
#include "cpu_fwd.hpp"
#include "cpu/conv/conv.hpp"
#include "cpu/gemm.hpp"
#include "cpu/memory.hpp"
#include "cpu/norm.hpp"
#include "cpu/optimiser.hpp"
#include "cpu/pointwise.hpp"
#include "cpu/pooling.hpp"

namespace unetflow {

template <class T_>
struct basic_cpu : cpu_impl::Memory<T_>,
                   cpu_impl::Gemm<T_>,
                   cpu_impl::Convolution<T_>,
                   cpu_impl::Normalisation<T_>,
                   cpu_impl::Pointwise<T_>,
                   cpu_impl::Pooling<T_>,
                   cpu_impl::Optimiser<T_> {
  using scalar = T_;
  using T = T_;
  using Use = typename cpu_impl::Memory<T_>::Use;
  using Activation = unetflow::Activation;
  static constexpr const char* name = "cpu";
  static constexpr bool host_accessible = true;  // its memory is the host's: no transfers needed
};

#if defined(UNETFLOW_CPU_KERNELS_COMPILED)
#define UNETFLOW_CPU_ROOMS(T)                              \
  extern template struct cpu_impl::Memory<T>;              \
  extern template struct cpu_impl::Gemm<T>;                \
  extern template struct cpu_impl::Columns<T>;             \
  extern template struct cpu_impl::WinogradConvolution<T>; \
  extern template struct cpu_impl::Convolution<T>;         \
  extern template struct cpu_impl::ActivationRows<T>;      \
  extern template struct cpu_impl::Normalisation<T>;       \
  extern template struct cpu_impl::Pointwise<T>;           \
  extern template struct cpu_impl::Pooling<T>;             \
  extern template struct cpu_impl::Optimiser<T>;
UNETFLOW_CPU_ROOMS(float)
UNETFLOW_CPU_ROOMS(double)
#undef UNETFLOW_CPU_ROOMS
#endif

using cpu = basic_cpu<float>;
using cpu_f64 = basic_cpu<double>;
static_assert(check_backend<cpu>() && Backend<cpu> && check_backend<cpu_f64>() && Backend<cpu_f64>);

}  // namespace unetflow
