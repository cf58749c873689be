#pragma once
// The safetensors format (the one PyTorch and Hugging Face users load): an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the raw data.
// Writing is atomic: a temporary file beside the target is written, flushed, synced and renamed over it, so a
// crash mid-write leaves the previous file intact.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../error.hpp"
#include "atomic_file.hpp"

namespace unetflow::safetensors {

enum class DType { F32, F64, I64 };

inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32:
      return "F32";
    case DType::F64:
      return "F64";
    case DType::I64:
      return "I64";
  }
  return "?";
}
inline std::size_t dtype_size(DType d) { return d == DType::F32 ? 4 : 8; }
template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::F32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::F64;
  else {
    static_assert(std::is_same_v<T, std::int64_t>, "safetensors: only float, double and int64 tensors are stored");
    return DType::I64;
  }
}

inline std::string shape_string(const std::vector<std::int64_t>& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

struct TensorData {
  DType dtype;
  std::vector<std::int64_t> shape;
  std::vector<char> bytes;

  std::int64_t numel() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
  template <class T>
  std::vector<T> as() const {
    std::vector<T> out(numel());
    if (dtype == dtype_of<T>()) {
      std::memcpy(out.data(), bytes.data(), bytes.size());
    } else if (dtype == DType::F32) {
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = T(reinterpret_cast<const float*>(bytes.data())[i]);
    } else if (dtype == DType::F64) {
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = T(reinterpret_cast<const double*>(bytes.data())[i]);
    } else {
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = T(reinterpret_cast<const std::int64_t*>(bytes.data())[i]);
    }
    return out;
  }
};

struct File {
  std::map<std::string, TensorData> tensors;
  std::map<std::string, std::string> metadata;

  template <class T>
  void add(const std::string& name, std::vector<std::int64_t> shape, const T* data) {
    TensorData t{dtype_of<T>(), std::move(shape), {}};
    t.bytes.resize(std::size_t(t.numel()) * sizeof(T));
    if (!t.bytes.empty()) std::memcpy(t.bytes.data(), data, t.bytes.size());
    tensors[name] = std::move(t);
  }
  const TensorData* find(const std::string& name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
  }
};

inline void write(const std::filesystem::path& path, const File& f) {
  nlohmann::ordered_json header;
  if (!f.metadata.empty()) header["__metadata__"] = f.metadata;
  std::uint64_t offset = 0;
  for (auto& [name, t] : f.tensors) {
    header[name] = {
        {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const std::uint64_t len = text.size();

  write_atomically(path, [&](std::FILE* out) {
    bool ok = std::fwrite(&len, 8, 1, out) == 1 && std::fwrite(text.data(), 1, text.size(), out) == text.size();
    for (auto& [name, t] : f.tensors)
      ok = ok && (t.bytes.empty() || std::fwrite(t.bytes.data(), 1, t.bytes.size(), out) == t.bytes.size());
    return ok;
  });
}

// Reads the header, checks it, then the data. `check_header` (optional) sees the file with every tensor's dtype and
// shape but no bytes yet: it may throw, refusing the file before its data is read (a 2 GB tensor that the model does
// not have is refused after reading the header, not after the 2 GB), and it may erase tensors it does not need,
// which are then not read.
inline File read(const std::filesystem::path& path, const std::function<void(File&)>& check_header = {}) {
  const std::string p = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + p + ": " + std::strerror(errno) + ".");
  in.seekg(0, std::ios::end);
  const std::uint64_t size = std::uint64_t(in.tellg());
  in.seekg(0);
  std::uint64_t len = 0;
  if (size < 8 || !in.read(reinterpret_cast<char*>(&len), 8))
    throw Error(p + " is not a safetensors file: it is shorter than its 8-byte header length.");
  if (len > size - 8)
    throw Error(p + " is truncated: its header claims " + std::to_string(len) + " bytes but the file has " +
                std::to_string(size - 8) + " after the length.");
  std::string text(len, '\0');
  in.read(text.data(), std::streamsize(len));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw Error(p + " is not a safetensors file: its header is not valid JSON (" + e.what() + ").");
  }
  if (!header.is_object()) throw Error(p + " is not a safetensors file: its header is not a JSON object.");
  const std::uint64_t data_start = 8 + len, data_size = size - data_start;
  File f;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> extents;  // [begin, end) of every tensor's data
  std::map<std::string, std::uint64_t> offsets;                  // where each tensor's data begins
  try {
    for (auto& [name, v] : header.items()) {
      if (name == "__metadata__") {
        for (auto& [k, s] : v.items()) f.metadata[k] = s.get<std::string>();
        continue;
      }
      TensorData t;
      const std::string d = v.at("dtype").get<std::string>();
      if (d == "F32")
        t.dtype = DType::F32;
      else if (d == "F64")
        t.dtype = DType::F64;
      else if (d == "I64")
        t.dtype = DType::I64;
      else
        throw Error(p + ": tensor '" + name + "' has dtype " + d + ", which unetflow does not read (F32, F64, I64).");
      // Whole numbers only: a JSON float converted to an integer type is undefined when out of range.
      auto integers = [&p](const nlohmann::json& entry, const std::string& tensor,
                           const char* key) {  // (clang 14: no bindings in lambdas)
        const auto& list = entry.at(key);
        if (!list.is_array() || !std::all_of(list.begin(), list.end(), [](const nlohmann::json& e) {
              return e.is_number_integer() &&
                     (!e.is_number_unsigned() || e.get<std::uint64_t>() <= std::uint64_t(INT64_MAX));
            }))
          throw Error(p + ": tensor '" + tensor + "' has a \"" + key +
                      "\" entry that is not a list of whole numbers in range.");
        return list.get<std::vector<std::int64_t>>();
      };
      t.shape = integers(v, name, "shape");
      // The shape's byte count, checked: no negative dimension, no product past what a file can hold.
      std::uint64_t bytes = dtype_size(t.dtype);
      for (auto dim : t.shape)
        if (dim < 0 || __builtin_mul_overflow(bytes, std::uint64_t(dim), &bytes))
          throw Error(p + ": tensor '" + name + "' has the shape " + shape_string(t.shape) +
                      ", which no file can hold.");
      const auto signed_offsets = integers(v, name, "data_offsets");
      if (signed_offsets.size() != 2 || signed_offsets[0] < 0 || signed_offsets[1] < 0)
        throw Error(p + ": tensor '" + name + "' has data offsets that do not match its shape and dtype.");
      const std::vector<std::uint64_t> off{std::uint64_t(signed_offsets[0]), std::uint64_t(signed_offsets[1])};
      if (off[1] < off[0] || off[1] - off[0] != bytes)
        throw Error(p + ": tensor '" + name + "' has data offsets that do not match its shape and dtype.");
      if (off[1] > data_size)
        throw Error(p + " is truncated: tensor '" + name + "' ends at byte " + std::to_string(off[1]) +
                    " of the data but the file holds " + std::to_string(data_size) + ".");
      extents.emplace_back(off[0], off[1]);
      offsets[name] = off[0];
      f.tensors[name] = std::move(t);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(p + " is not a safetensors file of unetflow's kind: its header has an entry of the wrong type (" +
                e.what() + ").");
  }
  std::sort(extents.begin(), extents.end());
  std::uint64_t covered = 0;  // the end of the data the tensors so far (by begin) take
  for (const auto& [begin, end] : extents) {
    if (begin == end) continue;
    if (begin < covered)
      throw Error(p + ": two tensors share bytes " + std::to_string(begin) + " to " +
                  std::to_string(std::min(end, covered)) + " of the data; the file is damaged.");
    covered = end;
  }
  if (check_header) check_header(f);
  for (auto& [name, t] : f.tensors) {
    t.bytes.resize(std::size_t(t.numel()) * dtype_size(t.dtype));
    in.seekg(std::streamoff(data_start + offsets.at(name)));
    in.read(t.bytes.data(), std::streamsize(t.bytes.size()));
    if (!in) throw Error("reading tensor '" + name + "' from " + p + " failed.");
  }
  return f;
}

// The metadata alone: the header is read, no tensor data.
inline std::map<std::string, std::string> read_metadata(const std::filesystem::path& path) {
  return read(path, [](File& f) { f.tensors.clear(); }).metadata;
}

}  // namespace unetflow::safetensors
