#pragma once
// MNIST-format data sets (MNIST, Fashion-MNIST): images as floats in [0, 1], labels 0-9. Looks in `dir` for
// the usual file names, raw or .gz (train-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz], ...).
#include <filesystem>
#include <string>
#include <vector>

#include "../io/idx.hpp"

namespace unetflow {

// n images of channels x height x width floats in [0, 1] (channel-major, rows within a channel), and their labels.
struct ImageSet {
  int n = 0, channels = 1, height = 0, width = 0;
  std::vector<float> images;             // n * sample_size()
  std::vector<std::uint8_t> labels;      // n
  std::string source;                    // where it was read from, for messages
  std::vector<std::string> class_names;  // label -> name, when the source names its classes
  std::ptrdiff_t sample_size() const { return std::ptrdiff_t(channels) * height * width; }
  const float* image(int i) const { return images.data() + std::ptrdiff_t(i) * sample_size(); }
  // Keeps the first `count` images (all when count <= 0 or >= n): torch.utils.data.Subset(set, range(count)).
  void keep_first(int count) {
    if (count <= 0 || count >= n) return;
    n = count;
    images.resize(std::size_t(n) * std::size_t(sample_size()));
    labels.resize(std::size_t(n));
  }
  std::string shape_text() const {
    return std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width);
  }
};

// The set's images must be samples of shape S (what a model takes); `what` names the set in the message.
template <class S>
void check_images_fit(const ImageSet& set, const std::string& what) {
  if (set.channels != S::C || set.height != S::H || set.width != S::W)
    throw Error(what + (set.source.empty() ? "" : " (" + set.source + ")") + " holds " + set.shape_text() +
                " images (channels x height x width) but the model takes " + std::to_string(S::C) + "x" +
                std::to_string(S::H) + "x" + std::to_string(S::W) + ".");
  if (std::ptrdiff_t(set.images.size()) != set.n * set.sample_size() || std::ptrdiff_t(set.labels.size()) != set.n)
    throw Error(what + " is inconsistent: " + std::to_string(set.n) + " images of " + set.shape_text() + " need " +
                std::to_string(set.n * set.sample_size()) + " values and " + std::to_string(set.n) + " labels.");
}

// The set must hold at least `needed` images; `what` names the set, `why` the use (for the message).
inline void require_images(const ImageSet& set, int needed, const std::string& what, const std::string& why) {
  if (set.n < needed)
    throw Error(what + (set.source.empty() ? "" : " (" + set.source + ")") + " holds " + std::to_string(set.n) +
                " images, fewer than the " + std::to_string(needed) + " " + why + ".");
}

// Every label of the set must be below `classes`; `why` names what takes that many (for the message).
inline void require_classes(const ImageSet& set, int classes, const std::string& why) {
  for (int i = 0; i < set.n; ++i)
    if (set.labels[std::size_t(i)] >= classes)
      throw Error(set.source + " has a class " + std::to_string(int(set.labels[std::size_t(i)])) + " (image " +
                  std::to_string(i) + "); " + why + " take at most " + std::to_string(classes) + " classes, 0-" +
                  std::to_string(classes - 1) + ".");
}

enum class Split { train, test };

inline std::filesystem::path find_idx(const std::filesystem::path& dir, const std::string& stem) {
  for (const auto& name : {stem, stem + ".gz"})
    if (std::filesystem::exists(dir / name)) return dir / name;
  throw Error("no " + stem + " (or " + stem + ".gz) in " + dir.string() +
              ": run scripts/fetch_mnist.sh or pass --data DIR.");
}

inline ImageSet load_mnist(const std::filesystem::path& dir, Split split) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const auto images = idx::read(find_idx(dir, prefix + "-images-idx3-ubyte"), {idx::any, idx::any, idx::any});
  if (images.dims[0] == 0 || images.dims[1] == 0 || images.dims[2] == 0)
    throw Error(find_idx(dir, prefix + "-images-idx3-ubyte").string() + " holds no images (" +
                std::to_string(images.dims[0]) + " of " + std::to_string(images.dims[1]) + "x" +
                std::to_string(images.dims[2]) + " pixels).");
  const auto labels = idx::read(find_idx(dir, prefix + "-labels-idx1-ubyte"), {images.dims[0]});
  ImageSet s;
  s.source = find_idx(dir, prefix + "-images-idx3-ubyte").string();
  s.n = int(images.dims[0]);
  s.height = int(images.dims[1]);
  s.width = int(images.dims[2]);
  s.images.resize(images.data.size());
  for (std::size_t i = 0; i < images.data.size(); ++i) s.images[i] = float(images.data[i]) / 255.0f;
  s.labels = labels.data;
  for (auto l : s.labels)
    if (l > 9)
      throw Error(find_idx(dir, prefix + "-labels-idx1-ubyte").string() + " holds label " + std::to_string(l) +
                  ", outside 0-9.");
  return s;
}

}  // namespace unetflow
