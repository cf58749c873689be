// libFuzzer target: the gzip path of the IDX reader. Each input is read twice: as a file of its own (damaged or
// hostile gzip streams: bad headers, bad CRCs, a stream that inflates far past its IDX header), and compressed, so
// that every mutation of an IDX file also goes through zlib's inflate with a valid stream.
#include <zlib.h>

#include "fuzz_file.hpp"
#include "read_idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::read_idx_as_the_loader_does(fuzz::write_input("gzip_raw", data, size));
  const auto& packed = fuzz::input_path("gzip_packed");
  gzFile f = gzopen(packed.c_str(), "wb1");
  if (!f || (size && gzwrite(f, data, unsigned(size)) != int(size)) || gzclose(f) != Z_OK) std::abort();
  fuzz::read_idx_as_the_loader_does(packed);
  return 0;
}
