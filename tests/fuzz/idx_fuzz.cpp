// libFuzzer target: the IDX reader (MNIST's files, gzipped or not) as the data loader calls it.
#include <unetflow/io/idx.hpp>

#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& path = fuzz::write_input("idx", data, size);
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
  return 0;
}
