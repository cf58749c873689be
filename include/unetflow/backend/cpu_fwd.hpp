#pragma once
// The CPU policy by name only: the default of every layer's backend parameter (`class B = cpu`). A header that needs
// no more than the name includes this one, not backend/cpu.hpp (OpenMP, BLAS, the convolution engine); code that
// computes on the CPU includes backend/cpu.hpp (unetflow.hpp does).
namespace unetflow {

template <class T_>
struct basic_cpu;
using cpu = basic_cpu<float>;

}  // namespace unetflow
