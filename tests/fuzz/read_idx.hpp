#pragma once
// What the IDX fuzz targets ask of every input: read as the data loader reads images and labels, it is either
// refused with unetflow::Error or gives exactly the values its header declares.
#include <unetflow/io/idx.hpp>

namespace fuzz {

inline void read_idx_as_the_loader_does(const std::filesystem::path& path) {
  for (const auto& expected : {std::vector<std::optional<std::uint32_t>>{unetflow::idx::any, 28, 28},
                               std::vector<std::optional<std::uint32_t>>{unetflow::idx::any}}) {
    try {
      const auto a = unetflow::idx::read(path, expected);
      std::uint64_t count = 1;
      for (auto d : a.dims) count *= d;
      if (a.data.size() != count) std::abort();  // what it returns is what its header says
    } catch (const unetflow::Error&) {
    }
  }
}

}  // namespace fuzz
