#pragma once
// .npy files (numpy's format) through xtensor, so that other tools can score samples and read curves.
// Needs xtensor: link the CMake target unetflow::npy.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>
#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

#include "atomic_file.hpp"

namespace unetflow {

template <class T>
void write_npy(const std::filesystem::path& path, const T* data, const std::vector<std::size_t>& shape) {
  std::size_t size = 1;
  for (auto d : shape) size *= d;
  write_atomically(path, xt::dump_npy(xt::adapt(data, size, xt::no_ownership(), shape)));
}

template <class T>
std::vector<T> read_npy(const std::filesystem::path& path) {
  auto a = xt::load_npy<T>(path.string());
  return std::vector<T>(a.begin(), a.end());
}

}  // namespace unetflow
