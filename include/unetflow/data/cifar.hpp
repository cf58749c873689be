#pragma once
// CIFAR-10's binary version (the folder cifar-10-batches-bin): files of 3,073-byte records, each one label byte
// (0-9) and the 32x32 image's 3,072 pixel bytes, channel-major: 1,024 red values row by row, then green, then blue.
// Training: data_batch_1.bin .. data_batch_5.bin (10,000 records each); test: test_batch.bin.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../system_memory.hpp"
#include "mnist.hpp"

namespace unetflow {

namespace cifar10 {
constexpr int channels = 3, side = 32, classes = 10;
constexpr std::ptrdiff_t pixels = std::ptrdiff_t(channels) * side * side, record = 1 + pixels;
}  // namespace cifar10

// Appends the records of one CIFAR-10 binary file to `set`.
inline void read_cifar10_file(const std::filesystem::path& path, ImageSet& set) {
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  if (ec) throw Error("cannot read " + path.string() + ": " + ec.message() + ".");
  if (bytes == 0 || bytes % std::uintmax_t(cifar10::record) != 0)
    throw Error(path.string() + " is " + std::to_string(bytes) + " bytes, not a whole number of 3073-byte CIFAR-10 " +
                "records (1 label byte and 3072 pixel bytes).");
  require_memory(double(bytes) * (1 + 4),
                 "reading " + path.string() + " (" + std::to_string(bytes) + " bytes, as bytes and floats)");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw Error("cannot open " + path.string() + ": " + std::strerror(errno) + ".");
  std::vector<unsigned char> data(bytes);
  if (std::fread(data.data(), 1, data.size(), f.get()) != data.size())
    throw Error("cannot read " + path.string() + ": it ended early or the read failed.");
  const int records = int(bytes / std::uintmax_t(cifar10::record));
  set.images.reserve(set.images.size() + std::size_t(records) * cifar10::pixels);
  for (int r = 0; r < records; ++r) {
    const unsigned char* rec = data.data() + std::ptrdiff_t(r) * cifar10::record;
    if (rec[0] >= cifar10::classes)
      throw Error(path.string() + ": record " + std::to_string(r) + " has label " + std::to_string(int(rec[0])) +
                  ", outside 0-9: this is not a CIFAR-10 binary file (CIFAR-100's records have two label bytes).");
    set.labels.push_back(rec[0]);
    for (std::ptrdiff_t i = 0; i < cifar10::pixels; ++i) set.images.push_back(float(rec[1 + i]) / 255.0f);
  }
  set.n += records;
}

// The training (five files) or test split from the folder `dir`.
inline ImageSet load_cifar10(const std::filesystem::path& dir, Split split) {
  std::vector<std::string> names;
  if (split == Split::train)
    for (int i = 1; i <= 5; ++i) names.push_back("data_batch_" + std::to_string(i) + ".bin");
  else
    names.push_back("test_batch.bin");
  ImageSet set;
  set.channels = cifar10::channels;
  set.height = set.width = cifar10::side;
  set.source = dir.string();
  set.class_names = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  for (const auto& name : names) {
    if (!std::filesystem::exists(dir / name))
      throw Error("no " + name + " in " + dir.string() + ": --data must name CIFAR-10's binary folder " +
                  "(cifar-10-batches-bin, with data_batch_1.bin .. data_batch_5.bin and test_batch.bin).");
    read_cifar10_file(dir / name, set);
  }
  return set;
}

}  // namespace unetflow
