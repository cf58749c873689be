#pragma once
// The readers take paths: each fuzz input is written to one file in /dev/shm (or the temporary folder) first.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace fuzz {

inline const std::filesystem::path& input_path(const char* name) {
  static const std::filesystem::path path = [&] {
    const std::filesystem::path dir = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    return dir / (std::string("unetflow_fuzz_") + name + "_" + std::to_string(::getpid()));
  }();
  return path;
}

inline const std::filesystem::path& write_input(const char* name, const std::uint8_t* data, std::size_t size) {
  const auto& path = input_path(name);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) std::abort();
  return path;
}

}  // namespace fuzz
