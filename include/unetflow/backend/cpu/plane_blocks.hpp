#pragma once
// How the CPU's whole-plane kernels (cpu/plane_kernels.hpp) cut a row into whole vectors, compile a row loop for its
// count of blocks, and ask for memory ahead of their streams.
#include <algorithm>
#include <cstdint>

namespace unetflow::cpu_impl {

struct PlaneBlocks {
  // The widest block: a whole AVX-512 vector of floats.
  static constexpr int lanes = 16;
  // The kernels' row loops ask for the cache line 4 KB past each block they read or write (write: to be written),
  // on Intel cores only: there 2 KB ahead added 5-12 points of a copy's bandwidth to each pass, and 4 KB another 7 to
  // the bilinear backward's, whose reads came too late; on AMD Zen 4 asking for whole planes ahead made the kernels
  // slower (docs/performance.md).
  static bool asks_ahead() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool intel = (__builtin_cpu_init(), __builtin_cpu_is("intel"));
    return intel;
#else
    return false;
#endif
  }
  static void ask_ahead(const void* p, bool write) {
    // the line may lie past the tensor: a hint never faults, and integer arithmetic forms its address
    const auto* line = reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(p) + 4096);
    write ? __builtin_prefetch(line, 1) : __builtin_prefetch(line, 0);
  }
  // f(s) for s = 0, L, 2L, ... with the last block moved back to end at n (n >= L): whole vectors only. B, when not
  // 0, is their count, ceil(n / L), known to the compiler.
  template <int L = lanes, int B = 0, class F>
  static void spans(int n, F&& f) {
    if constexpr (B > 0) {
      for (int b = 0; b < B; ++b) f(std::min(b * L, n - L));
    } else {
      for (int s = 0;; s += L) {
        s = std::min(s, n - L);
        f(s);
        if (s == n - L) return;
      }
    }
  }
  // f.template operator()<B>() with B the count of L-blocks in n when it is 4 or less, else 0: the kernels' row
  // loops are compiled for each count (counted at run time, a 14-wide plane in cache took 11-80 % longer).
  template <int L, class F>
  static void with_blocks(int n, F&& f) {
    switch ((n + L - 1) / L) {
      case 1:
        return f.template operator()<1>();
      case 2:
        return f.template operator()<2>();
      case 3:
        return f.template operator()<3>();
      case 4:
        return f.template operator()<4>();
      default:
        return f.template operator()<0>();
    }
  }
  // f.template operator()<L>() with the widest block of 16, 8 or 4 that a row of n fits (n >= 4).
  template <class F>
  static void widest_block(int n, F&& f) {
    if (n >= 16) return f.template operator()<16>();
    if (n >= 8) return f.template operator()<8>();
    f.template operator()<4>();
  }
};

}  // namespace unetflow::cpu_impl
