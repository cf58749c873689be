#pragma once
// The chunk structure of a PNG file, checked before a decoder is trusted with it: the signature, IHDR first (13 bytes,
// a size of 1 to 2^31 - 1 each way), every chunk inside the file with a correct CRC, at least one IDAT and none empty,
// IEND last. stb_image decodes without checking CRCs and mishandles an empty first IDAT (a copy to a null buffer, found
// by fuzzing): a file that fails here is refused in one sentence instead.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace unetflow::png {

inline constexpr unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

inline bool has_signature(const std::vector<unsigned char>& bytes) {
  return bytes.size() >= 8 && std::equal(signature, signature + 8, bytes.begin());
}

inline std::uint32_t big_endian32(const unsigned char* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

// Why the bytes of a file with the PNG signature are not a well-formed PNG ("" when they are).
inline std::string structure_problem(const std::vector<unsigned char>& bytes) {
  if (!has_signature(bytes)) return "it does not start with the PNG signature";
  std::size_t at = 8;
  bool first = true, idat = false, end = false;
  while (at < bytes.size()) {
    if (end) return "it has bytes after its IEND chunk";
    if (bytes.size() - at < 12) return "it ends inside a chunk header";
    const std::uint32_t length = big_endian32(&bytes[at]);
    if (length > 0x7fffffffu || bytes.size() - at - 12 < length) return "a chunk runs past the end of the file";
    const std::string type(reinterpret_cast<const char*>(&bytes[at + 4]), 4);
    const auto crc = std::uint32_t(crc32(0, &bytes[at + 4], uInt(length + 4)));
    if (crc != big_endian32(&bytes[at + 8 + length])) return "the CRC of its " + type + " chunk is wrong";
    if (first && (type != "IHDR" || length != 13)) return "its first chunk is not a 13-byte IHDR";
    if (first) {
      const std::uint32_t width = big_endian32(&bytes[at + 8]), height = big_endian32(&bytes[at + 12]);
      if (width == 0 || height == 0 || width > 0x7fffffffu || height > 0x7fffffffu) return "its IHDR gives a size of 0 or above 2^31 - 1";
    }
    if (type == "IDAT" && length == 0) return "it has an empty IDAT chunk";
    idat = idat || type == "IDAT";
    end = type == "IEND";
    first = false;
    at += 12 + std::size_t(length);
  }
  if (!idat) return "it has no IDAT chunk (no pixel data)";
  if (!end) return "it has no IEND chunk (the file is cut short)";
  return "";
}

}  // namespace unetflow::png
