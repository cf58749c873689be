#pragma once
// Batches of test images for figures and evaluation: gathering, running a model over many images in eval-mode
// batches, and the per-image mean squared error.
#include <algorithm>
#include <cstdio>
#include <string>
#include <unetflow/data/mnist.hpp>
#include <unetflow/tensor.hpp>
#include <unetflow/transfer.hpp>
#include <vector>

namespace examples {

using namespace unetflow;

// Copies images idx[0..] of `set` into a contiguous host vector.
inline std::vector<float> gather(const ImageSet& set, const std::vector<int>& idx) {
  const std::ptrdiff_t plane = set.sample_size();
  std::vector<float> out(idx.size() * std::size_t(plane));
  for (std::size_t i = 0; i < idx.size(); ++i) std::copy(set.image(idx[i]), set.image(idx[i]) + plane, out.begin() + std::ptrdiff_t(i) * plane);
  return out;
}

// The first `count` test images (a fixed, varied selection of digits).
inline std::vector<int> first_indices(int count) {
  std::vector<int> indices(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) indices[std::size_t(i)] = i;
  return indices;
}

// y = f(x) over n host images in batches of at most `batch`: each batch is moved into backend B's memory,
// f(View in) returns the output view (backend memory), which is moved back and appended.
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

inline double mse(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return s / double(a.size());
}

inline std::string fmt(double v, int digits = 2) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace examples
