#pragma once
// The IDX format of MNIST and Fashion-MNIST (raw or gzip): big-endian magic 0x0000TTRR (TT = 0x08 unsigned
// bytes, RR = rank), RR big-endian 32-bit dimensions, then the data. Every check failure is one sentence that
// names the file: wrong magic, wrong rank, unexpected dimensions, a file shorter or longer than its header says.
#include <zlib.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "../error.hpp"

namespace unetflow::idx {

struct Array {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;
};

// Reads a whole file, inflating it when it is gzip-compressed (by its magic bytes, whatever its name).
inline std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error("cannot open " + path.string() + ": " + std::strerror(errno) + ".");
  std::vector<std::uint8_t> out;
  std::uint8_t buf[1 << 16];
  int got;
  while ((got = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + got);
  int err = 0;
  const char* msg = got < 0 ? gzerror(f, &err) : nullptr;
  const std::string what = msg ? msg : "";
  gzclose(f);
  if (got < 0) throw Error(path.string() + " is damaged: gzip reports '" + what + "'.");
  return out;
}

inline std::uint32_t big_endian(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

// An expected dimension that accepts any size (a real 0 must match a 0).
inline constexpr std::nullopt_t any = std::nullopt;

// `expected_dims`: the rank must match, and each dimension that is not `any`.
inline Array read(const std::filesystem::path& path, const std::vector<std::optional<std::uint32_t>>& expected_dims) {
  const auto bytes = read_bytes(path);
  const std::string p = path.string();
  if (bytes.size() < 4) throw Error(p + " is not an IDX file: it is " + std::to_string(bytes.size()) + " bytes long.");
  if (bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08)
    throw Error(p + " is not an unsigned-byte IDX file: its magic number is wrong.");
  const std::size_t rank = bytes[3];
  if (rank != expected_dims.size())
    throw Error(p + " has rank " + std::to_string(rank) + " where rank " + std::to_string(expected_dims.size()) + " was expected.");
  if (bytes.size() < 4 + 4 * rank) throw Error(p + " is truncated: it ends inside its header.");
  Array a;
  std::uint64_t count = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    a.dims.push_back(big_endian(&bytes[4 + 4 * i]));
    if (expected_dims[i] && a.dims[i] != *expected_dims[i])
      throw Error(p + " has dimension " + std::to_string(i) + " of size " + std::to_string(a.dims[i]) + " where " + std::to_string(*expected_dims[i]) + " was expected.");
    if (__builtin_mul_overflow(count, std::uint64_t(a.dims[i]), &count))
      throw Error(p + " declares dimensions whose product overflows: the file is damaged.");
  }
  const std::uint64_t have = bytes.size() - 4 - 4 * rank;
  if (have < count) throw Error(p + " is truncated: its header promises " + std::to_string(count) + " values but it holds " + std::to_string(have) + ".");
  if (have > count) throw Error(p + " is longer than its header says (" + std::to_string(have - count) + " extra bytes): it is not a clean IDX file.");
  a.data.assign(bytes.begin() + std::ptrdiff_t(4 + 4 * rank), bytes.end());
  return a;
}

}  // namespace unetflow::idx
