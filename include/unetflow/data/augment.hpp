#pragma once
// Data augmentation for image sets, as torchvision's RandomCrop(size, padding) and RandomHorizontalFlip(): each
// sample is shifted by a random offset within `crop_padding` pixels (zero padding, the same size out) and mirrored
// left-right with probability 1/2. The draws of sample s in epoch e come from the stream (seed, e, s): the same in
// every run, in a resumed one, and whatever the batch size or the number of processes.
#include <algorithm>
#include <cstdint>

#include "../random.hpp"

namespace unetflow {

struct Augmentation {
  int crop_padding = 0;          // pixels of zero padding around the image before the random crop
  bool horizontal_flip = false;  // mirror left-right with probability 1/2
  bool active() const { return crop_padding > 0 || horizontal_flip; }
};

// dst = the augmented src (C planes of h x w floats); dst must not overlap src.
inline void augment_image(const float* src, float* dst, int C, int h, int w, const Augmentation& a, std::uint64_t seed,
                          std::int64_t epoch, std::int64_t sample) {
  Rng rng(seed ^ (0xA5A5A5A5A5A5A5A5ull * std::uint64_t(epoch + 1)), 0xA06E000000000000ull + std::uint64_t(sample));
  const int pad = std::max(a.crop_padding, 0);
  const int dy = pad > 0 ? int(rng.below(std::uint64_t(2 * pad + 1))) - pad : 0;
  const int dx = pad > 0 ? int(rng.below(std::uint64_t(2 * pad + 1))) - pad : 0;
  const bool flip = a.horizontal_flip && rng.uniform() < 0.5;
  for (int c = 0; c < C; ++c) {
    const float* in = src + std::ptrdiff_t(c) * h * w;
    float* out = dst + std::ptrdiff_t(c) * h * w;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const int sy = y + dy, sx0 = x + dx, sx = flip ? w - 1 - sx0 : sx0;
        out[y * w + x] = sy >= 0 && sy < h && sx0 >= 0 && sx0 < w ? in[sy * w + sx] : 0.f;
      }
  }
}

}  // namespace unetflow
