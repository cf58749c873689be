#pragma once
// The CPU policy's memory room: aligned host allocations, transfers that are copies, per-thread scratch, and a
// Graph that simply runs the step.
#include <malloc.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>
#include <vector>

#include "../../tensor.hpp"
#include "../common.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define UNETFLOW_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNETFLOW_ADDRESS_SANITIZER 1
#endif
#endif

namespace unetflow::cpu_impl {

// Whole cache lines, except under AddressSanitizer: there the exact size, so that a read or write past the last
// element is reported instead of landing in the padding (posix_memalign: aligned_alloc wants whole lines).
inline void* aligned_bytes(std::size_t bytes) {
#ifdef UNETFLOW_ADDRESS_SANITIZER
  void* p = nullptr;
  return ::posix_memalign(&p, 64, bytes ? bytes : 1) == 0 ? p : nullptr;
#else
  bytes = (bytes + 63) / 64 * 64;
  return std::aligned_alloc(64, bytes ? bytes : 64);
#endif
}

// The bytes the CPU policy holds now and at most since the last reset_peak(), over every scalar type: what
// train/memory_estimate.hpp measures a training step with.
struct AllocationCount {
  static std::atomic<std::int64_t>& live() {
    static std::atomic<std::int64_t> bytes{0};
    return bytes;
  }
  static std::atomic<std::int64_t>& peak() {
    static std::atomic<std::int64_t> bytes{0};
    return bytes;
  }
  static void add(std::int64_t bytes) {
    const std::int64_t now = live() += bytes;
    for (std::int64_t seen = peak().load(); now > seen && !peak().compare_exchange_weak(seen, now);) {
    }
  }
};

template <class T>
struct Memory {
  using scalar = T;
  template <class U>
  static U* allocate(std::ptrdiff_t n) {
    void* p = aligned_bytes(std::size_t(n) * sizeof(U));
    if (!p) throw std::bad_alloc();
    AllocationCount::add(std::int64_t(::malloc_usable_size(p)));
    return static_cast<U*>(p);
  }
  template <class U>
  static void deallocate(U* p) {
    if (p) AllocationCount::add(-std::int64_t(::malloc_usable_size(p)));
    std::free(p);
  }
  static std::int64_t allocated_bytes() { return AllocationCount::live(); }
  static std::int64_t peak_allocated_bytes() { return AllocationCount::peak(); }
  static void reset_peak() { AllocationCount::peak() = AllocationCount::live().load(); }
  static void fill(T* p, std::ptrdiff_t n, T v);
  static void copy(const T* src, T* dst, std::ptrdiff_t n);
  static void to_host(const T* src, T* dst, std::ptrdiff_t n) { copy(src, dst, n); }
  static void from_host(const T* src, T* dst, std::ptrdiff_t n) { copy(src, dst, n); }
  static double read(const double* p) { return *p; }
  static void synchronize() {}

  // A step the caller runs many times with the same shapes; a device backend records and replays it, here it
  // simply runs. run() returns how many times f's host code ran (backend.hpp): always once here.
  struct Graph {
    template <class F, class... Snapshot>
    int run(StepKey, F&& f, Snapshot&&...) {
      f();
      return 1;
    }
  };

  // Scratch shared by all layers, one buffer per (use, thread); each grows to its largest request and is reused,
  // so a steady-state training step allocates nothing. The table of buffers never resizes, so threads may ask
  // for their own buffer inside a parallel region.
  enum class Use { columns, partial_sums, tile, weights, transformed_weights, rows, activations, framed, count_ };
  static constexpr int max_threads = 1024;
  static T* scratch(Use use, int thread, std::ptrdiff_t n);
  // Block outputs that backward recomputes instead of keeping: one buffer per chain depth (see blocks/chain.hpp).
  static T* activation_scratch(int depth, std::ptrdiff_t n) { return scratch(Use::activations, depth, n); }
  static int threads() { return omp_get_max_threads(); }
  // out += the per-thread partial sums (Use::partial_sums, `size` values) of threads [first, nt), in thread order:
  // deterministic for a given thread count.
  static void add_partial_sums(int first, int nt, std::ptrdiff_t size, T* out);
};

template <class T>
void Memory<T>::fill(T* p, std::ptrdiff_t n, T v) {
  std::fill(p, p + n, v);
}

template <class T>
void Memory<T>::copy(const T* src, T* dst, std::ptrdiff_t n) {
  std::copy(src, src + n, dst);
}

template <class T>
T* Memory<T>::scratch(Use use, int thread, std::ptrdiff_t n) {
  static std::vector<std::unique_ptr<Storage<Memory>>> slots(std::size_t(Use::count_) * max_threads);
  if (thread >= max_threads) throw std::runtime_error("unetflow: more than 1024 OpenMP threads are not supported");
  auto& slot = slots[std::size_t(use) * max_threads + std::size_t(thread)];
  if (!slot) slot = std::make_unique<Storage<Memory>>();
  slot->reserve(n);
  return slot->data();
}

template <class T>
void Memory<T>::add_partial_sums(int first, int nt, std::ptrdiff_t size, T* out) {
  for (int t = first; t < nt; ++t) {
    const T* acc = scratch(Use::partial_sums, t, size);
    for (std::ptrdiff_t i = 0; i < size; ++i) out[i] += acc[i];
  }
}

}  // namespace unetflow::cpu_impl
