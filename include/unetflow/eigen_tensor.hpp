#pragma once
// Batches as Eigen tensors, without copying, so that Eigen's tensor algebra works on unetflow's data:
//   as_eigen(view)          a rank-4 row-major Eigen::TensorMap (n, C, H, W) over a contiguous host batch
//   from_eigen<S>(map)      a View<S, T> over a rank-4 row-major TensorMap whose (C, H, W) are S's
// The memory must be the host's (a CPU-policy batch, or a downloaded one) and stays owned by its owner. A strided
// view (a channel slice of a concatenation) or a map of another shape is refused with one sentence.
#include <string>
#include <type_traits>

#include "backend/cpu/eigen.hpp"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <unsupported/Eigen/CXX11/Tensor>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include "error.hpp"
#include "tensor.hpp"

namespace unetflow {

template <class T>
using EigenBatch = Eigen::TensorMap<
    std::conditional_t<std::is_const_v<T>, const Eigen::Tensor<std::remove_const_t<T>, 4, Eigen::RowMajor>,
                       Eigen::Tensor<T, 4, Eigen::RowMajor>>>;

template <class S, class T>
EigenBatch<T> as_eigen(View<S, T> v) {
  if (!v.contiguous())
    throw Error("as_eigen: the view's samples are " + std::to_string(v.stride) + " values apart, not " +
                std::to_string(S::size) + " (a channel slice); copy it into a batch of its own first.");
  return EigenBatch<T>(v.data, v.n, S::C, S::H, S::W);
}

template <class S, class T>
View<S, T> from_eigen(EigenBatch<T> m) {
  if (m.dimension(1) != S::C || m.dimension(2) != S::H || m.dimension(3) != S::W)
    throw Error("from_eigen: the tensor's samples are " + std::to_string(m.dimension(1)) + "x" +
                std::to_string(m.dimension(2)) + "x" + std::to_string(m.dimension(3)) + ", not " +
                std::to_string(S::C) + "x" + std::to_string(S::H) + "x" + std::to_string(S::W) + ".");
  return View<S, T>{m.data(), int(m.dimension(0))};
}

}  // namespace unetflow
