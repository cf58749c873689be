#pragma once
// The chunk structure of a PNG file, checked before a decoder is trusted with it: the signature, IHDR first (13 bytes,
// a size of 1 to 2^31 - 1 each way, a colour type and bit depth the format defines), every chunk inside the file with
// a correct CRC, at least one IDAT and none empty, IEND last. stb_image decodes without checking CRCs and mishandles an
// empty first IDAT (a copy to a null buffer, found by fuzzing): a file that fails here is refused in one sentence.
//   structure_problem(bytes)   "" for a well-formed file, else why not
//   header(bytes)              width, height and channels of a well-formed file, from its IHDR
#include <zlib.h>

#include <algorithm>
#include <cmath>
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
      if (width == 0 || height == 0 || width > 0x7fffffffu || height > 0x7fffffffu)
        return "its IHDR gives a size of 0 or above 2^31 - 1";
      const int depth = bytes[at + 16], colour = bytes[at + 17];
      const bool valid = (colour == 0 && (depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16)) ||
                         (colour == 3 && (depth == 1 || depth == 2 || depth == 4 || depth == 8)) ||
                         ((colour == 2 || colour == 4 || colour == 6) && (depth == 8 || depth == 16));
      if (!valid)
        return "its IHDR gives colour type " + std::to_string(colour) + " with bit depth " + std::to_string(depth) +
               ", which PNG does not define";
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

struct Header {
  std::uint32_t width = 0, height = 0;
  int depth = 0;    // bits per sample
  int samples = 0;  // samples per pixel as stored: 1 grey or palette index, 2 grey and alpha, 3 RGB, 4 RGBA
  bool colour = false;
  // The bytes its pixels inflate to: a filter byte and the packed samples of every row.
  double raw_bytes() const { return double(height) * (1 + std::ceil(double(width) * samples * depth / 8)); }
};
// The IHDR of a file that passed structure_problem.
inline Header header(const std::vector<unsigned char>& bytes) {
  const int type = bytes[25];
  static constexpr int samples_of_colour_type[7] = {1, 0, 3, 1, 2, 0, 4};
  return {big_endian32(&bytes[16]), big_endian32(&bytes[20]), bytes[24], samples_of_colour_type[type],
          type == 2 || type == 3 || type == 6};
}

}  // namespace unetflow::png
