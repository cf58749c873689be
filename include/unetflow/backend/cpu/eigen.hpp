#pragma once
// Eigen, as unetflow uses it (dense maps for GEMM, vectorised erf and exp for GELU).
// GCC 12 reports -Wmaybe-uninitialized (-O2 and up) and -Wuninitialized (-O1) inside the x86 intrinsic headers when
// Eigen's AVX-512 code is inlined into ours: the headers' `__Y = __Y` idiom for an undefined vector, a false
// positive. The warnings are attributed to the intrinsic headers' lines, so they are silenced where those are
// first included, here: every unetflow header that uses Eigen includes this one first.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
