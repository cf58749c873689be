#pragma once
// Embedding<N, Dim>: class index -> a learned vector of Dim features, as nn.Embedding(N, Dim) (weight [N][Dim],
// initialised N(0, 1) as PyTorch). The input is one value per sample (Vec<1>) holding a whole number in [0, N): a
// conditioning alternative to one-hot + Linear. An index that is not one of the N rows is refused with one sentence.
// Backward adds dy to the chosen rows; the index has no gradient (dx, when given, is set to zero).
#include <cmath>
#include <string>
#include <vector>

#include "../backend/backend.hpp"
#include "../backend/cpu_fwd.hpp"
#include "../error.hpp"
#include "../module.hpp"
#include "../param.hpp"
#include "../transfer.hpp"

namespace unetflow {

template <int N, int Dim, class B = cpu>
class Embedding : public OwnsOutput<Embedding<N, Dim, B>, B> {
  static_assert(check_backend<B>());
  static_assert(N >= 1 && Dim >= 1, "Embedding: needs at least one row of at least one feature");

 public:
  using backend = B;
  using T = typename B::scalar;
  template <class In>
  using output_shape = Vec<Dim>;
  template <class In>
  static constexpr bool accepts = std::is_same_v<In, Vec<1>>;
  using OwnsOutput<Embedding, B>::forward;

  Param<B> weight{{N, Dim}, Normal{1.0}};

  Embedding() { B::fill(zero_.data(), 1, T(0)); }

  template <class In, class U>
  void forward(View<In, U> index, View<Vec<Dim>, T> y) {
    check<In, U>();
    const T* rows = contiguous_index(index);
    B::embedding_forward(rows, weight.data(), y.rows(), index.n, Dim);
  }
  template <class In, class U, class V>
  void backward(View<In, U> index, View<Vec<Dim>, V> dy, View<In, T> dx, bool accumulate = false) {
    check<In, U>();
    B::embedding_backward(contiguous_index(index), dy.rows(), weight.grad.data(), index.n, Dim, N);
    if (dx && !accumulate) B::copy_rows(Strided<const T>{zero_.data(), 0}, dx.rows(), index.n, 1);
  }
  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "weight", weight);
  }

 private:
  template <class In, class U>
  static constexpr void check() {
    static_assert(std::is_same_v<In, Vec<1>>,
                  "Embedding: the input must be one class index per sample (Vec<1>), not a map or a vector");
    static_assert(detail::same_scalar_v<U, T>, "Embedding: the input's scalar type differs from the backend's");
  }
  // The indices back to back, checked on the host: whole numbers in [0, N).
  template <class In, class U>
  const T* contiguous_index(View<In, U> index) {
    const std::vector<T> host = download<B>(View<In, const T>(index));
    for (int s = 0; s < index.n; ++s)
      if (!(host[s] >= 0 && host[s] < N && host[s] == std::floor(host[s])))
        throw Error("Embedding: sample " + std::to_string(s) + " asks for row " + std::to_string(host[s]) +
                    ", which is not a whole number in [0, " + std::to_string(N) + ").");
    if (index.contiguous()) return index.data;
    index_.reserve(index.n);
    upload<B>(host.data(), View<In, T>{index_.data(), index.n});
    return index_.data();
  }
  Storage<B> index_, zero_{1};
};

}  // namespace unetflow
