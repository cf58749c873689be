#pragma once
// A data set from a folder of images with one sub-folder per class (PNG, JPEG, BMP, ... anything stb_image reads):
//   DIR/airplane/0001.png, DIR/airplane/0002.png, ..., DIR/truck/5000.png
// Classes are the sub-folders in name order (label 0 is the first); files are read in name order. Every image must
// have the same height and width; the set is RGB when any image has colour, grey otherwise (an alpha channel is
// dropped). Needs stb_image: link the CMake target unetflow::figures (Debian: libstb-dev).
#ifndef STBI_INCLUDE_STB_IMAGE_H  // one definition per translation unit, whoever includes stb_image first
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#endif
#include <stb/stb_image.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "../error.hpp"
#include "mnist.hpp"

namespace unetflow {

inline ImageSet load_image_folder(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw Error(dir.string() + " is not a folder (expected one sub-folder of images per class).");
  std::vector<fs::path> classes;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) classes.push_back(e.path());
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) throw Error(dir.string() + " has no sub-folders: put each class's images in a folder of its own.");
  if (classes.size() > 256) throw Error(dir.string() + " has " + std::to_string(classes.size()) + " class folders; at most 256 are supported.");

  // First pass: every file's size and channel count, without decoding.
  std::vector<std::pair<fs::path, int>> files;
  int height = 0, width = 0, channels = 1;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    std::vector<fs::path> in_class;
    for (const auto& e : fs::directory_iterator(classes[c]))
      if (e.is_regular_file()) in_class.push_back(e.path());
    std::sort(in_class.begin(), in_class.end());
    if (in_class.empty()) throw Error("the class folder " + classes[c].string() + " holds no images.");
    for (const auto& f : in_class) {
      int w = 0, h = 0, comp = 0;
      if (!stbi_info(f.c_str(), &w, &h, &comp))
        throw Error(f.string() + " is not an image stb_image can read (" + stbi_failure_reason() + ").");
      if (files.empty()) height = h, width = w;
      else if (h != height || w != width)
        throw Error(f.string() + " is " + std::to_string(w) + "x" + std::to_string(h) + " but " + files.front().first.string() +
                    " is " + std::to_string(width) + "x" + std::to_string(height) + ": every image must have the same size.");
      if (comp >= 3) channels = 3;
      files.emplace_back(f, int(c));
    }
  }

  ImageSet set;
  set.channels = channels;
  set.height = height;
  set.width = width;
  set.source = dir.string();
  for (const auto& c : classes) set.class_names.push_back(c.filename().string());
  const std::ptrdiff_t plane = std::ptrdiff_t(height) * width;
  set.images.resize(files.size() * std::size_t(channels * plane));
  for (std::size_t i = 0; i < files.size(); ++i) {
    int w = 0, h = 0, comp = 0;
    std::unique_ptr<unsigned char, void (*)(void*)> pixels(stbi_load(files[i].first.c_str(), &w, &h, &comp, channels),
                                                           &stbi_image_free);
    if (!pixels) throw Error("cannot read " + files[i].first.string() + " (" + stbi_failure_reason() + ").");
    // stb_image gives rows of interleaved channels; the set is channel-major.
    float* out = set.images.data() + std::ptrdiff_t(i) * channels * plane;
    for (std::ptrdiff_t p = 0; p < plane; ++p)
      for (int k = 0; k < channels; ++k) out[k * plane + p] = float(pixels.get()[p * channels + k]) / 255.0f;
    set.labels.push_back(std::uint8_t(files[i].second));
  }
  set.n = int(files.size());
  return set;
}

}  // namespace unetflow
