// libFuzzer target: the .npy reader (score's samples and labels).
#include <unetflow/io/npy.hpp>

#include "fuzz_file.hpp"

template <class T>
void read_as(const std::filesystem::path& path) {
  try {
    const auto a = unetflow::read_npy_array<T>(path);
    std::size_t count = 1;
    for (auto d : a.shape) count *= d;
    if (a.data.size() != count) std::abort();  // what it returns is what its header says
  } catch (const unetflow::Error&) {
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& path = fuzz::write_input("npy", data, size);
  read_as<float>(path);
  read_as<std::int64_t>(path);
  return 0;
}
