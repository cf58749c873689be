#pragma once
// Moving batches between host memory and a backend's memory (a plain copy for the CPU backend). Random numbers
// are always drawn on the host, from the same stream whatever the backend, and then moved.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "backend/backend.hpp"
#include "backend/cpu_fwd.hpp"
#include "distributed/comm.hpp"
#include "random.hpp"
#include "tensor.hpp"

namespace unetflow {

// n samples of host memory (contiguous) into dst.
template <class B, class S, class T>
void upload(const T* host, View<S, T> dst) {
  if (dst.contiguous()) {
    B::from_host(host, dst.data, dst.numel());
    return;
  }
  for (int s = 0; s < dst.n; ++s) B::from_host(host + s * S::size, dst.sample(s), S::size);
}

// The samples of v as one contiguous host vector.
template <class B, class S, class T>
std::vector<std::remove_const_t<T>> download(View<S, T> v) {
  std::vector<std::remove_const_t<T>> host(std::size_t(v.numel()));
  if (v.contiguous()) {
    B::to_host(v.data, host.data(), v.numel());
    return host;
  }
  for (int s = 0; s < v.n; ++s) B::to_host(v.sample(s), host.data() + s * S::size, S::size);
  return host;
}

// The samples of a view as a host vector (B: the backend whose memory the view is in).
template <class B = cpu, class S, class T>
std::vector<std::remove_const_t<T>> to_vector(View<S, T> v) {
  return download<B>(v);
}

// Draws from rng into backend memory through a reusable host buffer.
template <class B, class T>
void draw_normal(Rng& rng, T* dst, std::ptrdiff_t n, std::vector<T>& staging, double mean = 0, double std = 1) {
  staging.resize(std::size_t(n));
  rng.fill_normal(staging.data(), n, mean, std);
  B::from_host(staging.data(), dst, n);
}
template <class B, class T>
void draw_uniform(Rng& rng, T* dst, std::ptrdiff_t n, std::vector<T>& staging, double lo = 0, double hi = 1) {
  staging.resize(std::size_t(n));
  rng.fill_uniform(staging.data(), n, lo, hi);
  B::from_host(staging.data(), dst, n);
}

// n rows of `row` values for a shard of a global batch (distributed/comm.hpp): the whole batch's rows are drawn, as one
// process would draw them, and the shard's rows [offset, offset + n) are moved.
template <class B, class T, class Draw>
void draw_rows(T* dst, int n, std::ptrdiff_t row, Shard shard, std::vector<T>& staging, Draw&& draw) {
  const std::ptrdiff_t total = std::ptrdiff_t(shard.total_or(n)) * row;
  staging.resize(std::size_t(total));
  draw(staging.data(), total);
  B::from_host(staging.data() + std::ptrdiff_t(shard.offset) * row, dst, std::ptrdiff_t(n) * row);
}
template <class B, class T>
void draw_normal_rows(Rng& rng, T* dst, int n, std::ptrdiff_t row, Shard shard, std::vector<T>& staging) {
  draw_rows<B>(dst, n, row, shard, staging, [&](T* p, std::ptrdiff_t k) { rng.fill_normal(p, k, 0, 1); });
}
template <class B, class T>
void draw_uniform_rows(Rng& rng, T* dst, int n, std::ptrdiff_t row, Shard shard, std::vector<T>& staging) {
  draw_rows<B>(dst, n, row, shard, staging, [&](T* p, std::ptrdiff_t k) { rng.fill_uniform(p, k, 0, 1); });
}

// A tensor's values drawn from rng on the host (the same numbers whatever the backend).
template <class S, class B>
void fill_normal(Tensor<S, B>& t, Rng& rng, double mean = 0, double std = 1) {
  std::vector<typename B::scalar> staging;
  draw_normal<B>(rng, t.data(), t.numel(), staging, mean, std);
}
template <class S, class B>
void fill_uniform(Tensor<S, B>& t, Rng& rng, double lo = 0, double hi = 1) {
  std::vector<typename B::scalar> staging;
  draw_uniform<B>(rng, t.data(), t.numel(), staging, lo, hi);
}

// y = f(x) over n host images (contiguous, of shape S) in batches of at most `batch`: each batch is moved into backend
// B's memory, f(View in) returns the output view (backend memory), which is moved back and appended.
template <class S, class B, class F>
std::vector<float> map_batches(const float* x, int n, int batch, F&& f) {
  std::vector<float> out;
  Tensor<S, B> staged;
  for (int begin = 0; begin < n; begin += batch) {
    const int m = std::min(batch, n - begin);
    auto in = staged.resize(m);
    B::from_host(x + std::ptrdiff_t(begin) * S::size, in.data, in.numel());
    const auto y = download<B>(f(View<S, const float>(in)));
    out.insert(out.end(), y.begin(), y.end());
  }
  return out;
}

}  // namespace unetflow
