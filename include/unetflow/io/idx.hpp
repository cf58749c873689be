#pragma once
// The IDX format of MNIST and Fashion-MNIST (raw or gzip): big-endian magic 0x0000TTRR (TT = 0x08 unsigned
// bytes, RR = rank), RR big-endian 32-bit dimensions, then the data. Every check failure is one sentence that
// names the file: wrong magic, wrong rank, unexpected dimensions, a file shorter or longer than its header says.
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../system_memory.hpp"

namespace unetflow::idx {

struct Array {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;
};

inline std::uint32_t big_endian(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

// An expected dimension that accepts any size (a real 0 must match a 0).
inline constexpr std::nullopt_t any = std::nullopt;

namespace detail {
// A file read through zlib, which inflates it when it is gzip-compressed (by its magic bytes, whatever its name)
// and passes it through otherwise.
class GzReader {
 public:
  explicit GzReader(const std::filesystem::path& path) : path_(path.string()), f_(gzopen(path.c_str(), "rb")) {
    if (!f_) throw Error("cannot open " + path_ + ": " + std::strerror(errno) + ".");
  }
  ~GzReader() { gzclose(f_); }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;
  // Reads up to n bytes; fewer only at the end of the file.
  std::size_t read(std::uint8_t* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const unsigned chunk = unsigned(std::min<std::size_t>(n - got, 1u << 30));
      const int r = gzread(f_, out + got, chunk);
      if (r < 0) {
        int err = 0;
        const char* msg = gzerror(f_, &err);
        throw Error(path_ + " is damaged: gzip reports '" + std::string(msg ? msg : "") + "'.");
      }
      if (r == 0) break;
      got += std::size_t(r);
    }
    return got;
  }

 private:
  std::string path_;
  gzFile f_;
};
}  // namespace detail

// `expected_dims`: the rank must match, and each dimension that is not `any`. The header is read and checked
// first, then exactly the data it declares plus a 4 KiB probe, to tell a longer file: a compressed file is never
// inflated past what its header promises (a small .gz of gigabytes of zeros costs no more than its header says), and
// the data buffer grows with what was read, not with what the header claims. A header that declares more than the
// process can hold is refused before any of its data is read (system_memory.hpp).
inline Array read(const std::filesystem::path& path, const std::vector<std::optional<std::uint32_t>>& expected_dims) {
  const std::string p = path.string();
  detail::GzReader in(path);
  std::uint8_t head[4 + 4 * 255];
  const std::size_t got = in.read(head, 4);
  if (got < 4) throw Error(p + " is not an IDX file: it is " + std::to_string(got) + " bytes long.");
  if (head[0] != 0 || head[1] != 0 || head[2] != 0x08)
    throw Error(p + " is not an unsigned-byte IDX file: its magic number is wrong.");
  const std::size_t rank = head[3];
  if (rank != expected_dims.size())
    throw Error(p + " has rank " + std::to_string(rank) + " where rank " + std::to_string(expected_dims.size()) +
                " was expected.");
  if (in.read(head + 4, 4 * rank) < 4 * rank) throw Error(p + " is truncated: it ends inside its header.");
  Array a;
  std::uint64_t count = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    a.dims.push_back(big_endian(&head[4 + 4 * i]));
    if (expected_dims[i] && a.dims[i] != *expected_dims[i])
      throw Error(p + " has dimension " + std::to_string(i) + " of size " + std::to_string(a.dims[i]) + " where " +
                  std::to_string(*expected_dims[i]) + " was expected.");
    if (__builtin_mul_overflow(count, std::uint64_t(a.dims[i]), &count))
      throw Error(p + " declares dimensions whose product overflows: the file is damaged.");
  }
  // The values and, in the programs, the floats made of them.
  require_memory(double(count) * 5, "reading " + p + " (its header declares " + std::to_string(count) + " values)");
  std::uint64_t have = 0;
  while (have < count) {  // the buffer at most doubles each time, so it stays within twice what the file holds
    const std::size_t want = std::size_t(std::min<std::uint64_t>(count - have, std::max<std::uint64_t>(have, 1 << 16)));
    a.data.resize(std::size_t(have) + want);
    const std::size_t r = in.read(a.data.data() + have, want);
    have += r;
    if (r < want) break;
  }
  if (have < count)
    throw Error(p + " is truncated: its header promises " + std::to_string(count) + " values but it holds " +
                std::to_string(have) + ".");
  std::uint8_t extra[4096];
  if (const std::size_t more = in.read(extra, sizeof extra); more > 0)
    throw Error(p + " is longer than its header says (" + (more == sizeof extra ? "at least " : "") +
                std::to_string(more) + " extra bytes): it is not a clean IDX file.");
  return a;
}

}  // namespace unetflow::idx
