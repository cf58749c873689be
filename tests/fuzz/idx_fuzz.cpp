// libFuzzer target: the IDX reader (MNIST's files, gzipped or not) as the data loader calls it.
#include "fuzz_file.hpp"
#include "read_idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::read_idx_as_the_loader_does(fuzz::write_input("idx", data, size));
  return 0;
}
