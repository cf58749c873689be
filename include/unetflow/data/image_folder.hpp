#pragma once
// A data set from a folder of PNG images with one sub-folder per class:
//   DIR/airplane/0001.png, DIR/airplane/0002.png, ..., DIR/truck/5000.png
// Classes are the sub-folders in name order (label 0 is the first); files are read in name order. Every image must
// have the same height and width; the set is RGB when any image has colour, grey otherwise (an alpha channel is
// dropped). Needs stb_image: link the CMake target unetflow::figures (Debian: libstb-dev).
// Every file is checked before anything is allocated for it or stb_image decodes it: its PNG chunk structure and
// CRCs (io/png_check.hpp), its size from its header against `sizes` when the caller says which sizes it takes and
// against what a file of its length can hold, and the whole set against the memory this process may take
// (system_memory.hpp). A 45-byte PNG whose header claims 32000x32000 pixels is refused in one sentence.
// PNG only: fuzzing found stb_image's JPEG decoder writing out of bounds on a 12-byte file (its Huffman table
// builder), and its other decoders have no checks in front of them; convert other formats to PNG first
// (ImageMagick: mogrify -format png *.jpg).
#ifndef STBI_INCLUDE_STB_IMAGE_H  // one definition per translation unit, whoever includes stb_image first
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#endif
#include <stb/stb_image.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../io/png_check.hpp"
#include "../system_memory.hpp"
#include "mnist.hpp"

namespace unetflow {

struct ImageSize {
  int height = 0, width = 0;
  std::string text() const { return std::to_string(width) + "x" + std::to_string(height); }
};

// Deflate, which holds a PNG's pixels, gives at most 1,032 bytes from one: a header that claims more describes pixels
// the file cannot hold.
inline constexpr double max_inflated_bytes_per_file_byte = 1032;

// A whole image file, which must fit in memory and in stb_image's int length, and be a well-formed PNG.
inline std::vector<unsigned char> read_image_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error("cannot read " + path.string() + " (" + ec.message() + ").");
  if (size > std::uintmax_t(INT32_MAX))
    throw Error(path.string() + " is " + std::to_string(size) + " bytes, more than an image file may be (2 GB).");
  require_memory(double(size), "reading " + path.string());
  std::vector<unsigned char> bytes(size);
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(size)))
    throw Error("cannot read " + path.string() + ".");
  if (!png::has_signature(bytes))
    throw Error(path.string() +
                " is not an image this reader takes: image folders hold PNG files only (convert "
                "others first, e.g. mogrify -format png).");
  if (const auto problem = png::structure_problem(bytes); !problem.empty())
    throw Error(path.string() + " is not a well-formed PNG: " + problem + ".");
  return bytes;
}

// `sizes`: the image sizes the caller takes (empty: any, the same for every image).
inline ImageSet load_image_folder(const std::filesystem::path& dir, const std::vector<ImageSize>& sizes = {}) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir))
    throw Error(dir.string() + " is not a folder (expected one sub-folder of images per class).");
  std::vector<fs::path> classes;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) classes.push_back(e.path());
  std::sort(classes.begin(), classes.end());
  if (classes.empty())
    throw Error(dir.string() + " has no sub-folders: put each class's images in a folder of its own.");
  if (classes.size() > 256)
    throw Error(dir.string() + " has " + std::to_string(classes.size()) + " class folders; at most 256 are supported.");

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
      const auto bytes = read_image_file(f);
      const auto header = png::header(bytes);
      const int w = int(header.width), h = int(header.height);
      if (files.empty()) {
        const ImageSize size{h, w};
        if (!sizes.empty() && std::none_of(sizes.begin(), sizes.end(),
                                           [&](const ImageSize& s) { return s.height == h && s.width == w; })) {
          std::string accepted;
          for (const auto& s : sizes) accepted += (accepted.empty() ? "" : " or ") + s.text();
          throw Error(f.string() + " is " + size.text() + " pixels (by its header); the images must be " + accepted +
                      ".");
        }
        height = h, width = w;
      } else if (h != height || w != width)
        throw Error(f.string() + " is " + std::to_string(w) + "x" + std::to_string(h) + " but " +
                    files.front().first.string() + " is " + std::to_string(width) + "x" + std::to_string(height) +
                    ": every image must have the same size.");
      const double file_bytes = double(bytes.size());
      if (header.raw_bytes() > max_inflated_bytes_per_file_byte * file_bytes)
        throw Error(f.string() + " claims " + std::to_string(w) + "x" + std::to_string(h) +
                    " pixels in its header, more than a file of " + std::to_string(std::int64_t(file_bytes)) +
                    " bytes can hold: it is damaged or made to exhaust memory.");
      if (header.colour) channels = 3;
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
  require_memory(double(files.size()) * double(channels) * double(plane) * sizeof(float),
                 "reading " + dir.string() + " (" + std::to_string(files.size()) + " images of " +
                     std::to_string(width) + "x" + std::to_string(height) + " pixels)");
  set.images.resize(files.size() * std::size_t(channels * plane));
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto bytes = read_image_file(files[i].first);
    int w = 0, h = 0, comp = 0;
    std::unique_ptr<unsigned char, void (*)(void*)> pixels(
        stbi_load_from_memory(bytes.data(), int(bytes.size()), &w, &h, &comp, channels), &stbi_image_free);
    if (!pixels) throw Error("cannot read " + files[i].first.string() + " (" + stbi_failure_reason() + ").");
    if (w != width || h != height)
      throw Error(files[i].first.string() + " decodes to " + std::to_string(w) + "x" + std::to_string(h) +
                  " pixels but its header said " + std::to_string(width) + "x" + std::to_string(height) +
                  ": the file is damaged.");
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
