#pragma once
// The CPU policy's GEMM room: OpenBLAS (its OpenMP build) for float when found, Eigen otherwise (and for double).
#include "eigen.hpp"
#include <type_traits>

#if defined(UNETFLOW_CBLAS)
#include <cblas.h>
#endif

namespace unetflow::cpu_impl {

template <class T>
struct Gemm {
  using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using MapC = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
  using Map = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;

  static void gemm(bool ta, bool tb, int M, int N, int K, T alpha, const T* A, int lda, const T* B, int ldb, T beta,
                   T* C, int ldc);
};

template <class T>
void Gemm<T>::gemm(bool ta, bool tb, int M, int N, int K, T alpha, const T* A, int lda, const T* B, int ldb, T beta,
                   T* C, int ldc) {
#if defined(UNETFLOW_CBLAS)
  // OpenBLAS (OpenMP build): multi-threaded on its own, single-threaded inside our parallel regions.
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda,
                B, ldb, beta, C, ldc);
    return;
  }
#endif
  Map c(C, M, N, Eigen::OuterStride<>(ldc));
  MapC a(A, ta ? K : M, ta ? M : K, Eigen::OuterStride<>(lda));
  MapC b(B, tb ? N : K, tb ? K : N, Eigen::OuterStride<>(ldb));
  if (beta == T(0))
    c.setZero();
  else if (beta != T(1))
    c *= beta;
  if (!ta && !tb)
    c.noalias() += alpha * a * b;
  else if (ta && !tb)
    c.noalias() += alpha * a.transpose() * b;
  else if (!ta && tb)
    c.noalias() += alpha * a * b.transpose();
  else
    c.noalias() += alpha * a.transpose() * b.transpose();
}

}  // namespace unetflow::cpu_impl
