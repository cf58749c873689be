#pragma once
// The one way files are written (checkpoints, .npy, figures, CSV, gnuplot scripts, run summaries): the bytes go to
// PATH.unetflow.tmp, which is flushed, synced and renamed over PATH only when every step succeeded. PATH is therefore
// the previous file or the complete new one, never a cut or empty one; a failure says which file and why (errno),
// removes the temporary and throws unetflow::Error.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "../error.hpp"

namespace unetflow {

namespace detail {
// Crash testing (tests/crash/crash_test.sh): with UNETFLOW_CRASH_AT=N in the environment the process kills itself
// with SIGKILL, as kill -9 or a power cut would, at its N-th write once the temporary is complete but before the
// rename; with UNETFLOW_CRASH_AT=N:renamed just after the rename. Unset, each write costs a test of a cached flag.
inline void crash_point(long write_number, bool renamed) {
  static const auto plan = [] {
    struct Plan {
      long write = 0;
      bool renamed = false;
    } p;
    if (const char* v = std::getenv("UNETFLOW_CRASH_AT")) {
      char* end = nullptr;
      p.write = std::strtol(v, &end, 10);
      p.renamed = end && std::string_view(end) == ":renamed";
    }
    return p;
  }();
  if (plan.write > 0 && write_number == plan.write && renamed == plan.renamed) std::raise(SIGKILL);
}
inline long next_write_number() {
  static std::atomic<long> writes{0};
  return ++writes;
}
}  // namespace detail

// The temporary's name says who wrote it, so that clearing a killed run's leftovers (is_temporary) never touches a
// user's own *.tmp file.
inline constexpr std::string_view temporary_suffix = ".unetflow.tmp";
inline std::filesystem::path temporary_for(const std::filesystem::path& path) {
  return path.string() + std::string(temporary_suffix);
}
inline bool is_temporary(const std::filesystem::path& path) {
  const auto name = path.filename().string();
  return name.size() > temporary_suffix.size() && name.ends_with(temporary_suffix);
}
// Removes the temporaries of write_atomically (<file>.unetflow.tmp) directly in `folder`; nothing else.
inline void remove_temporaries_in(const std::filesystem::path& folder) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec))
    if (entry.is_regular_file(ec) && is_temporary(entry.path())) std::filesystem::remove(entry.path(), ec);
}

// write(std::FILE*) writes the content and returns false when a write failed.
template <class Write>
requires std::is_invocable_r_v<bool, Write&, std::FILE*>
void write_atomically(const std::filesystem::path& path, Write&& write) {
  const long number = detail::next_write_number();
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
  detail::crash_point(number, false);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ignored);
    throw Error("cannot put " + path.string() + " in place: " + ec.message() + ".");
  }
  detail::crash_point(number, true);
}

inline void write_atomically(const std::filesystem::path& path, std::string_view bytes) {
  write_atomically(path, [&](std::FILE* out) {
    return bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size();
  });
}

}  // namespace unetflow
