#pragma once
// Part 1 of the assignment: the noising process z = x + sigma * eps (eps ~ N(0, I)); the denoiser's training
// objective is train/tasks/denoise.hpp.
#include <cstdint>
#include <vector>

#include "../random.hpp"
#include "../tensor.hpp"
#include "../transfer.hpp"

namespace unetflow {

// out = x + sigma * eps, eps drawn from rng (x and out may alias); host memory (figures, evaluation sets).
template <class S, class T, class U>
void add_noise(View<S, U> x, double sigma, Rng& rng, View<S, T> out) {
  for (int s = 0; s < x.n; ++s)
    for (std::ptrdiff_t i = 0; i < S::size; ++i) out.sample(s)[i] = T(x.sample(s)[i] + sigma * rng.normal());
}

}  // namespace unetflow
