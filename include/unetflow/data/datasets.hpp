#pragma once
// A data set found by what its folder holds (open_data), whatever its format:
//   MNIST-format IDX files   train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-... (MNIST,
//   Fashion-MNIST) CIFAR-10 binary batches  data_batch_1.bin .. data_batch_5.bin, test_batch.bin (cifar-10-batches-bin)
//   image folders            DIR/train/<class>/<image> and DIR/test/<class>/<image> (PNG; stb_image)
// with the names of classes for figures and a fingerprint that identifies a data set (classifiers record it).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../shape.hpp"
#include "cifar.hpp"
#include "image_folder.hpp"
#include "mnist.hpp"

namespace unetflow {

enum class DataFormat { mnist, cifar10, image_folder };

// The last component of a folder's path ("fashion-mnist" for /usr/share/datasets/fashion-mnist/).
inline std::string folder_name(const std::filesystem::path& dir) {
  auto p = dir.lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}

inline DataFormat data_format(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir))
    throw Error("--data " + dir.string() + ": no such folder (run scripts/fetch_mnist.sh, or name a folder of MNIST " +
                "IDX files, CIFAR-10 binary batches, or train/ and test/ image folders).");
  for (const char* name :
       {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"})
    if (std::filesystem::exists(dir / name)) return DataFormat::mnist;
  if (std::filesystem::exists(dir / "data_batch_1.bin") || std::filesystem::exists(dir / "test_batch.bin"))
    return DataFormat::cifar10;
  if (std::filesystem::is_directory(dir / "train") || std::filesystem::is_directory(dir / "test"))
    return DataFormat::image_folder;
  throw Error("--data " + dir.string() + " holds neither MNIST-format IDX files (train-images-idx3-ubyte ...), " +
              "CIFAR-10 binary batches (data_batch_1.bin ... test_batch.bin) nor train/ and test/ image folders.");
}

inline const char* format_name(DataFormat format) {
  switch (format) {
    case DataFormat::mnist:
      return "MNIST-format IDX";
    case DataFormat::cifar10:
      return "CIFAR-10 binary";
    case DataFormat::image_folder:
      break;
  }
  return "image folder";
}

// One split of the data set in `dir`, whatever its format.
// Fashion-MNIST's IDX files do not name their classes; a folder whose name says fashion-mnist gets these.
inline const std::vector<std::string> fashion_mnist_classes = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

inline ImageSet open_data(const std::filesystem::path& dir, Split split) {
  switch (data_format(dir)) {
    case DataFormat::mnist: {
      auto set = load_mnist(dir, split);
      if (folder_name(dir).find("fashion") != std::string::npos) set.class_names = fashion_mnist_classes;
      return set;
    }
    case DataFormat::cifar10:
      return load_cifar10(dir, split);
    case DataFormat::image_folder:
      break;
  }
  // The sizes of the models the example programs are built for, checked from each file's header before decoding.
  return load_image_folder(dir / (split == Split::train ? "train" : "test"), {{28, 28}, {32, 32}});
}

// The name of class k for figure labels: its name where the data set names its classes ("airplane"), else
// "digit k" for images of shape 1x28x28 and "class k" for others.
template <class S>
std::string class_label(const std::vector<std::string>& names, int k) {
  if (k < 0) return "no class";
  if (std::size_t(k) < names.size()) return names[std::size_t(k)];
  return (std::is_same_v<S, Shape<1, 28, 28>> ? "digit " : "class ") + std::to_string(k);
}

// A data set's identity for classifiers: FNV-1a (64 bits) over its images quantised to bytes and its labels, with
// its size. Two folders holding the same files have the same fingerprint; MNIST and Fashion-MNIST differ.
inline std::string fingerprint(const ImageSet& set) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](unsigned char b) { h = (h ^ b) * 1099511628211ull; };
  for (float v : set.images) mix(static_cast<unsigned char>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)));
  for (auto label : set.labels) mix(label);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return set.shape_text() + ":" + std::to_string(set.n) + ":" + hex;
}

// "1,28,28" for model names in checkpoints.
template <class S>
std::string shape_text() {
  return std::to_string(S::C) + "," + std::to_string(S::H) + "," + std::to_string(S::W);
}

}  // namespace unetflow
