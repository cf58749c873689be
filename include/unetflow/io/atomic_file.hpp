#pragma once
// The one way files are written (checkpoints, .npy, figures, CSV, gnuplot scripts, run summaries): the bytes go to
// PATH.tmp, which is flushed, synced and renamed over PATH only when every step succeeded. PATH is therefore the
// previous file or the complete new one, never a cut or empty one; a failure says which file and why (errno),
// removes the temporary and throws unetflow::Error.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "../error.hpp"

namespace unetflow {

inline std::filesystem::path temporary_for(const std::filesystem::path& path) { return path.string() + ".tmp"; }

// write(std::FILE*) writes the content and returns false when a write failed.
template <class Write>
  requires std::is_invocable_r_v<bool, Write&, std::FILE*>
void write_atomically(const std::filesystem::path& path, Write&& write) {
  const auto tmp = temporary_for(path);
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (!out) throw Error("cannot write " + path.string() + ": " + std::strerror(errno) + ".");
  errno = 0;
  bool ok = write(out) && std::fflush(out) == 0;
  int error = ok ? 0 : errno;
  if (ok && ::fsync(::fileno(out)) != 0 && errno != EINVAL) {  // EINVAL: a file that cannot be synced (a pipe)
    ok = false;
    error = errno;
  }
  if (std::fclose(out) != 0 && ok) {
    ok = false;
    error = errno;
  }
  std::error_code ignored;
  if (!ok) {
    std::filesystem::remove(tmp, ignored);
    throw Error("cannot write " + path.string() + ": " + (error ? std::strerror(error) : "a write failed") +
                "; the previous file, if any, is unchanged.");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ignored);
    throw Error("cannot put " + path.string() + " in place: " + ec.message() + ".");
  }
}

inline void write_atomically(const std::filesystem::path& path, std::string_view bytes) {
  write_atomically(path, [&](std::FILE* out) {
    return bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size();
  });
}

}  // namespace unetflow
