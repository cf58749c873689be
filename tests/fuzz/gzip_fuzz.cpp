// libFuzzer target: the gzip path of the IDX reader. Each input is read twice: as a file of its own (damaged or
// hostile gzip streams: bad headers, bad CRCs, a stream that inflates far past its IDX header), and compressed, so
// that every mutation of an IDX file also goes through zlib's inflate with a valid stream.
#include <zlib.h>

#include <unetflow/io/idx.hpp>

#include "fuzz_file.hpp"

namespace {
void read_both_ways(const std::filesystem::path& path) {
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
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  read_both_ways(fuzz::write_input("gzip_raw", data, size));
  const auto& packed = fuzz::input_path("gzip_packed");
  gzFile f = gzopen(packed.c_str(), "wb1");
  if (!f || (size && gzwrite(f, data, unsigned(size)) != int(size)) || gzclose(f) != Z_OK) std::abort();
  read_both_ways(packed);
  return 0;
}
