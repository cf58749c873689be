#pragma once
// What a value is: a batch of samples of a static shape, stored in the backend's memory.
//   Storage<B>     owning, aligned, growable buffer of B::scalar
//   View<S, T>     non-owning batch of `n` samples of shape S; samples are `stride` scalars apart,
//                  so a channel slice of a concatenation is a view too (no copy)
//   Tensor<S, B>   owning batch of shape S whose capacity grows to the largest batch it has held; Tensor(n)
//                  starts as zeros, resize(n) leaves new memory unset (transfer.hpp fills and copies tensors)
#include <cassert>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"
#include "shape.hpp"

namespace unetflow {

// A batch of rows, `stride` scalars apart: what the backend kernels take.
template <class T>
struct Strided {
  T* data = nullptr;
  std::ptrdiff_t stride = 0;
  T* operator[](std::ptrdiff_t sample) const { return data + sample * stride; }
  operator Strided<const T>() const { return {data, stride}; }
};

template <class B>
class Storage {
 public:
  using T = typename B::scalar;
  Storage() = default;
  explicit Storage(std::ptrdiff_t n) { reserve(n); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  Storage(Storage&& o) noexcept : data_(std::exchange(o.data_, nullptr)), capacity_(std::exchange(o.capacity_, 0)) {}
  Storage& operator=(Storage&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(capacity_, o.capacity_);
    return *this;
  }
  ~Storage() { B::deallocate(data_); }

  // Grows (never shrinks) to hold n scalars; contents are not kept when it grows.
  void reserve(std::ptrdiff_t n) {
    if (n <= capacity_) return;
    B::deallocate(data_);
    data_ = B::template allocate<T>(n);
    capacity_ = n;
  }
  T* data() const { return data_; }
  std::ptrdiff_t capacity() const { return capacity_; }

 private:
  T* data_ = nullptr;
  std::ptrdiff_t capacity_ = 0;
};

template <class S, class T>
struct View {
  static_assert(is_shape_v<S>, "View: the first argument must be a Shape<C, H, W>");
  using shape = S;
  using scalar = T;

  T* data = nullptr;
  int n = 0;
  std::ptrdiff_t stride = S::size;

  T* sample(int i) const { return data + i * stride; }
  bool contiguous() const { return stride == S::size; }
  std::ptrdiff_t numel() const { return std::ptrdiff_t(n) * S::size; }
  Strided<T> rows() const { return {data, stride}; }
  explicit operator bool() const { return data != nullptr; }
  operator View<S, const T>() const { return {data, n, stride}; }
};

// Room for n samples of shape S in s, seen as a view (contents are not kept when it grows).
template <class S, class B>
View<S, typename B::scalar> reserve_view(Storage<B>& s, int n) {
  s.reserve(std::ptrdiff_t(n) * S::size);
  return {s.data(), n};
}

// The same samples seen as vectors of S::size features (a flatten; no copy).
template <class S, class T>
View<Vec<S::size>, T> as_vector(View<S, T> v) {
  return {v.data, v.n, v.stride};
}

// Channel slices [0, A::C) and [A::C, C) of a view whose shape is concat_t<A, Bs>: no copy.
template <class A, class Bs, class T>
std::pair<View<A, T>, View<Bs, T>> split_channels(View<concat_t<A, Bs>, T> v) {
  return {View<A, T>{v.data, v.n, v.stride}, View<Bs, T>{v.data + A::size, v.n, v.stride}};
}

template <class S, class B>
class Tensor {
 public:
  using shape = S;
  using T = typename B::scalar;

  Tensor() = default;
  // n samples of zeros.
  explicit Tensor(int n) {
    resize(n);
    B::fill(data(), numel(), T(0));
  }
  // The samples in values (host memory, sample after sample); its length must be a multiple of S::size.
  explicit Tensor(std::span<const T> values) { assign(values); }

  void assign(std::span<const T> values) {
    if (values.size() % std::size_t(S::size) != 0)
      throw Error("Tensor::assign: " + std::to_string(values.size()) + " values are not a whole number of " +
                  std::to_string(S::size) + "-value samples.");
    resize(int(values.size() / std::size_t(S::size)));
    B::from_host(values.data(), data(), numel());
  }
  // The samples as one host vector.
  std::vector<T> to_vector() const {
    std::vector<T> host(static_cast<std::size_t>(numel()));
    B::to_host(data(), host.data(), numel());
    return host;
  }

  // Sets the batch size; memory grows only when the batch is larger than any before.
  View<S, T> resize(int n) {
    storage_.reserve(std::ptrdiff_t(n) * S::size);
    n_ = n;
    return view();
  }
  View<S, T> view() const { return {storage_.data(), n_, S::size}; }
  operator View<S, T>() const { return view(); }
  operator View<S, const T>() const { return view(); }
  T* data() const { return storage_.data(); }
  int n() const { return n_; }
  std::ptrdiff_t numel() const { return std::ptrdiff_t(n_) * S::size; }

 private:
  Storage<B> storage_;
  int n_ = 0;
};

}  // namespace unetflow
