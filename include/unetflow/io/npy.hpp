#pragma once
// .npy files (numpy's format), so that other tools can score samples and read curves. Writing goes through xtensor
// (link the CMake target unetflow::npy); reading is our own checked parser, because a .npy file comes from outside:
// the magic, the version, the header's length against the file's, the dtype, the order and the shape's product
// against the data's length are all checked before a byte of data is trusted, and every refusal names the file.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>
#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

#include "../error.hpp"
#include "atomic_file.hpp"

namespace unetflow {

template <class T>
void write_npy(const std::filesystem::path& path, const T* data, const std::vector<std::size_t>& shape) {
  std::size_t size = 1;
  for (auto d : shape) size *= d;
  write_atomically(path, xt::dump_npy(xt::adapt(data, size, xt::no_ownership(), shape)));
}

template <class T>
struct NpyArray {
  std::vector<std::size_t> shape;
  std::vector<T> data;
};

namespace detail {

// numpy's descriptor of T as this (little-endian) machine stores it.
template <class T>
constexpr std::string_view npy_descr() {
  if constexpr (std::is_same_v<T, float>)
    return "<f4";
  else if constexpr (std::is_same_v<T, double>)
    return "<f8";
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return "<i8";
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return "<i4";
  else if constexpr (std::is_same_v<T, std::uint8_t>)
    return "|u1";
  else
    static_assert(sizeof(T) == 0, "read_npy: no numpy descriptor for this element type");
}

// The value of 'key' in the header's dictionary, as written: "'<f4'", "False", "(40, 1, 28, 28)".
inline std::string npy_header_value(const std::string& header, const std::string& key, const std::string& file) {
  const auto at = header.find("'" + key + "'");
  if (at == std::string::npos) throw Error(file + ": the .npy header has no '" + key + "' entry.");
  auto begin = header.find(':', at);
  if (begin == std::string::npos) throw Error(file + ": the .npy header's '" + key + "' entry has no value.");
  begin = header.find_first_not_of(' ', begin + 1);
  if (begin == std::string::npos) throw Error(file + ": the .npy header's '" + key + "' entry has no value.");
  std::size_t end;  // one past the value
  if (header[begin] == '(' || header[begin] == '\'') {
    end = header.find(header[begin] == '(' ? ')' : '\'', begin + 1);
    if (end != std::string::npos) ++end;
  } else {
    end = header.find_first_of(",}", begin);
  }
  if (end == std::string::npos) throw Error(file + ": the .npy header's '" + key + "' entry is not closed.");
  return header.substr(begin, end - begin);
}

inline std::vector<std::size_t> npy_shape(const std::string& text, const std::string& file) {
  // "(40, 1, 28, 28)", "(40,)", "()"
  std::vector<std::size_t> shape;
  std::size_t i = 1;
  while (i + 1 < text.size()) {
    while (i + 1 < text.size() && (text[i] == ' ' || text[i] == ',')) ++i;
    if (i + 1 >= text.size()) break;
    std::uint64_t d = 0;
    const std::size_t start = i;
    while (i + 1 < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (d > (std::uint64_t(1) << 48))
        throw Error(file + ": the .npy shape " + text + " has a dimension too large to be real.");
      d = d * 10 + std::uint64_t(text[i++] - '0');
    }
    if (i == start) throw Error(file + ": the .npy shape " + text + " is not a tuple of non-negative integers.");
    shape.push_back(std::size_t(d));
  }
  return shape;
}

}  // namespace detail

// Reads an array of T, checked as the header above says; throws Error naming the file and the problem.
template <class T>
NpyArray<T> read_npy_array(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  const auto file_size = std::filesystem::file_size(path, ec);
  if (ec) throw Error("cannot read " + file + " (" + ec.message() + ").");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + file + ".");
  char prefix[12] = {};
  if (file_size < 10 || !in.read(prefix, 10) || std::memcmp(prefix, "\x93NUMPY", 6) != 0)
    throw Error(file + " is not a .npy file (no \\x93NUMPY magic at its start).");
  const int major = static_cast<unsigned char>(prefix[6]);
  std::uint64_t header_length, preamble;
  if (major == 1) {
    header_length = std::uint64_t(static_cast<unsigned char>(prefix[8])) |
                    std::uint64_t(static_cast<unsigned char>(prefix[9])) << 8;
    preamble = 10;
  } else if (major == 2 || major == 3) {
    if (file_size < 12 || !in.read(prefix + 10, 2)) throw Error(file + " is cut short inside its .npy preamble.");
    header_length = 0;
    for (int k = 0; k < 4; ++k) header_length |= std::uint64_t(static_cast<unsigned char>(prefix[8 + k])) << (8 * k);
    preamble = 12;
  } else {
    throw Error(file + " is a .npy file of version " + std::to_string(major) + ", not one of 1, 2, 3.");
  }
  if (header_length == 0) throw Error(file + " has an empty .npy header.");
  if (preamble + header_length > file_size)
    throw Error(file + " declares a .npy header of " + std::to_string(header_length) + " bytes but holds only " +
                std::to_string(file_size) + " bytes in all.");
  std::string header(std::size_t(header_length), '\0');
  if (!in.read(header.data(), std::streamsize(header_length)))
    throw Error("cannot read the .npy header of " + file + ".");
  if (header.back() != '\n' || header.front() != '{')
    throw Error(file + ": the .npy header is not a dictionary ending in a newline.");

  const auto descr = detail::npy_header_value(header, "descr", file);
  if (descr != "'" + std::string(detail::npy_descr<T>()) + "'")
    throw Error(file + " holds values of type " + descr + ", not the " + std::string(detail::npy_descr<T>()) +
                " expected.");
  if (detail::npy_header_value(header, "fortran_order", file) != "False")
    throw Error(file + " is stored in Fortran order; only C order is read.");
  const auto shape_text = detail::npy_header_value(header, "shape", file);
  if (shape_text.front() != '(') throw Error(file + ": the .npy shape " + shape_text + " is not a tuple.");
  NpyArray<T> array{detail::npy_shape(shape_text, file), {}};
  std::uint64_t count = 1;
  for (auto d : array.shape)
    if (__builtin_mul_overflow(count, std::uint64_t(d), &count))
      throw Error(file + ": the .npy shape " + shape_text + " overflows.");
  std::uint64_t bytes;
  if (__builtin_mul_overflow(count, std::uint64_t(sizeof(T)), &bytes))
    throw Error(file + ": the .npy shape " + shape_text + " overflows.");
  const std::uint64_t present = file_size - preamble - header_length;
  if (bytes != present)
    throw Error(file + ": the .npy shape " + shape_text + " needs " + std::to_string(bytes) +
                " bytes of data, the file holds " + std::to_string(present) +
                (bytes > present ? " (cut short)." : " (extra bytes at its end)."));
  array.data.resize(std::size_t(count));
  if (count > 0 && !in.read(reinterpret_cast<char*>(array.data.data()), std::streamsize(bytes)))
    throw Error("cannot read the data of " + file + ".");
  return array;
}

template <class T>
std::vector<T> read_npy(const std::filesystem::path& path) {
  return read_npy_array<T>(path).data;
}

}  // namespace unetflow
