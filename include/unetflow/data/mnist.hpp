#pragma once
// MNIST-format data sets (MNIST, Fashion-MNIST): images as floats in [0, 1], labels 0-9. Looks in `dir` for
// the usual file names, raw or .gz (train-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz], ...).
#include <filesystem>
#include <string>
#include <vector>

#include "../io/idx.hpp"

namespace unetflow {

struct ImageSet {
  int n = 0, height = 0, width = 0;
  std::vector<float> images;         // n * height * width, row-major, in [0, 1]
  std::vector<std::uint8_t> labels;  // n
  const float* image(int i) const { return images.data() + std::ptrdiff_t(i) * height * width; }
};

enum class Split { train, test };

inline std::filesystem::path find_idx(const std::filesystem::path& dir, const std::string& stem) {
  for (const auto& name : {stem, stem + ".gz"})
    if (std::filesystem::exists(dir / name)) return dir / name;
  throw Error("no " + stem + " (or " + stem + ".gz) in " + dir.string() + ": run scripts/fetch_mnist.sh or pass --data DIR.");
}

inline ImageSet load_mnist(const std::filesystem::path& dir, Split split) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const auto images = idx::read(find_idx(dir, prefix + "-images-idx3-ubyte"), {0, 0, 0});
  const auto labels = idx::read(find_idx(dir, prefix + "-labels-idx1-ubyte"), {images.dims[0]});
  ImageSet s;
  s.n = int(images.dims[0]);
  s.height = int(images.dims[1]);
  s.width = int(images.dims[2]);
  s.images.resize(images.data.size());
  for (std::size_t i = 0; i < images.data.size(); ++i) s.images[i] = float(images.data[i]) / 255.0f;
  s.labels = labels.data;
  for (auto l : s.labels)
    if (l > 9) throw Error(find_idx(dir, prefix + "-labels-idx1-ubyte").string() + " holds label " + std::to_string(l) + ", outside 0-9.");
  return s;
}

}  // namespace unetflow
