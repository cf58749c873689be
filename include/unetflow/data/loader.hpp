#pragma once
// Shuffled mini-batches over an ImageSet. Epoch e visits the samples in a permutation drawn from the stream
// (seed, e), so the order is reproducible and a resumed run needs only (epoch, batch) to continue exactly.
// The last batch of an epoch is smaller when the batch size does not divide the set (drop_last = False).
#include <algorithm>
#include <numeric>
#include <vector>

#include "../random.hpp"
#include "../tensor.hpp"
#include "augment.hpp"
#include "mnist.hpp"

namespace unetflow {

class ShuffledLoader {
 public:
  ShuffledLoader(const ImageSet& set, int batch, std::uint64_t seed) : set_(set), batch_(batch), seed_(seed) {
    if (batch <= 0) throw Error("the batch size must be positive, not " + std::to_string(batch) + ".");
  }

  // Augments every sample it copies from now on (data/augment.hpp), drawn per (seed, epoch, sample).
  void set_augmentation(const Augmentation& a) {
    if (a.crop_padding < 0)
      throw Error("the crop padding must not be negative, not " + std::to_string(a.crop_padding) + ".");
    augmentation_ = a;
  }

  int batches_per_epoch() const { return (set_.n + batch_ - 1) / batch_; }
  int batch_size() const { return batch_; }

  // The permutation of epoch `epoch` (0-based).
  std::vector<int> order(std::int64_t epoch) const {
    std::vector<int> p(set_.n);
    std::iota(p.begin(), p.end(), 0);
    Rng rng(seed_, 0x5EED0000u + std::uint64_t(epoch));
    for (int i = set_.n - 1; i > 0; --i) std::swap(p[i], p[int(rng.below(std::uint64_t(i) + 1))]);
    return p;
  }

  // The size of batch `index` (the last one of an epoch may be smaller).
  int batch_rows(int index) const { return std::min(batch_, set_.n - index * batch_); }

  // Copies batch `index` of `epoch` into images (n samples of C x H x W floats) and labels; returns its size.
  int fill(std::int64_t epoch, int index, float* images, std::uint8_t* labels) {
    return fill(epoch, index, images, labels, 0, batch_rows(index));
  }
  // Only rows [first, first + rows) of that batch (one process's part of it in data-parallel training).
  int fill(std::int64_t epoch, int index, float* images, std::uint8_t* labels, int first, int rows) {
    if (epoch != cached_epoch_) {
      order_ = order(epoch);
      cached_epoch_ = epoch;
    }
    const int begin = index * batch_ + first, n = std::min(rows, batch_rows(index) - first);
    const std::ptrdiff_t plane = set_.sample_size();
    for (int i = 0; i < n; ++i) {
      const int s = order_[begin + i];
      if (augmentation_.active())
        augment_image(set_.image(s), images + i * plane, set_.channels, set_.height, set_.width, augmentation_, seed_,
                      epoch, s);
      else
        std::copy(set_.image(s), set_.image(s) + plane, images + i * plane);
      labels[i] = set_.labels[s];
    }
    return n;
  }

 private:
  const ImageSet& set_;
  int batch_;
  std::uint64_t seed_;
  Augmentation augmentation_;
  std::int64_t cached_epoch_ = -1;
  std::vector<int> order_;
};

}  // namespace unetflow
