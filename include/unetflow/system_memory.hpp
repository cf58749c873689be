#pragma once
// How much memory this process can still take: the smaller of what the machine has available (MemAvailable of
// /proc/meminfo) and what its container leaves (the cgroup's limit less what the group uses, counting the group's
// inactive file cache as free, since the kernel reclaims it before it kills). A process in a 3 GB container on a
// 64 GB machine must size itself by the 3 GB: past it, the kernel's out-of-memory killer ends it without a word.
//   available_memory_bytes()                      0 when nothing can be read
//   require_memory(bytes, what)                   throws Error when `what` needs more than 90 % of it
// The cgroup is found from /proc/self/cgroup under /sys/fs/cgroup (v2: memory.max, memory.current, memory.stat;
// v1: memory/memory.limit_in_bytes, memory.usage_in_bytes, memory.stat); cgroup_memory_left takes the two roots as
// arguments so that tests can give it fake files.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>

#include "error.hpp"

namespace unetflow {

namespace detail {

inline std::optional<double> read_number_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word) || word == "max") return std::nullopt;
  try {
    std::size_t used = 0;
    const double v = std::stod(word, &used);
    if (used != word.size() || !(v >= 0)) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The value of `key` in a "key value" file (memory.stat), 0 when absent.
inline double stat_value(const std::filesystem::path& path, const std::string& key) {
  std::ifstream in(path);
  std::string k;
  double v = 0;
  while (in >> k >> v)
    if (k == key) return v;
  return 0;
}

// The group's folder below `root` for the hierarchy whose /proc/self/cgroup line matches `controller` ("" for v2's
// "0::/path" line); `root` itself when the line is absent or the folder is not there (a container's own view).
inline std::filesystem::path cgroup_dir(const std::filesystem::path& root, const std::filesystem::path& self_cgroup,
                                        const std::string& controller) {
  std::ifstream in(self_cgroup);
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1), path = line.substr(second + 1);
    const bool match = controller.empty() ? controllers.empty() && line.rfind("0:", 0) == 0
                                          : ("," + controllers + ",").find("," + controller + ",") != std::string::npos;
    if (!match) continue;
    const auto dir = root / std::filesystem::path(path).relative_path();
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) return dir;
  }
  return root;
}

}  // namespace detail

// What the cgroup still lets this process take, in bytes; nullopt without a limit (or without cgroup files).
// cgroup_root: /sys/fs/cgroup; self_cgroup: /proc/self/cgroup.
inline std::optional<double> cgroup_memory_left(const std::filesystem::path& cgroup_root = "/sys/fs/cgroup",
                                                const std::filesystem::path& self_cgroup = "/proc/self/cgroup") {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto v2 = detail::cgroup_dir(cgroup_root, self_cgroup, "");
  if (fs::exists(v2 / "memory.max", ec)) {
    const auto limit = detail::read_number_file(v2 / "memory.max");
    if (!limit) return std::nullopt;
    const double used = detail::read_number_file(v2 / "memory.current").value_or(0) -
                        detail::stat_value(v2 / "memory.stat", "inactive_file");
    return std::max(0.0, *limit - std::max(0.0, used));
  }
  const auto v1 = detail::cgroup_dir(cgroup_root / "memory", self_cgroup, "memory");
  if (fs::exists(v1 / "memory.limit_in_bytes", ec)) {
    const auto limit = detail::read_number_file(v1 / "memory.limit_in_bytes");
    // v1 says "no limit" with a huge number (2^63 rounded to pages).
    if (!limit || *limit >= double(std::numeric_limits<std::int64_t>::max() / 2)) return std::nullopt;
    const double used = detail::read_number_file(v1 / "memory.usage_in_bytes").value_or(0) -
                        detail::stat_value(v1 / "memory.stat", "total_inactive_file");
    return std::max(0.0, *limit - std::max(0.0, used));
  }
  return std::nullopt;
}

// What the machine still has (MemAvailable of /proc/meminfo), in bytes; nullopt when it cannot be read.
inline std::optional<double> machine_memory_available(const std::filesystem::path& meminfo = "/proc/meminfo") {
  std::ifstream in(meminfo);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream fields(line.substr(13));
      double kib = 0;
      if (fields >> kib) return kib * 1024;
    }
  return std::nullopt;
}

// The smaller of the machine's and the container's, in bytes; 0 when neither is known.
inline double available_memory_bytes() {
  const auto machine = machine_memory_available();
  const auto container = cgroup_memory_left();
  if (machine && container) return std::min(*machine, *container);
  return machine ? *machine : container.value_or(0.0);
}

// "1.23 GB"
inline std::string gigabytes(double bytes) {
  std::ostringstream s;
  s.precision(bytes < 1e9 ? 2 : 3);
  s << bytes / 1e9 << " GB";
  return s.str();
}

// Throws when `bytes` is more than 90 % of what this process can take; `what` is the start of the sentence
// ("data/mnist/train-images-idx3-ubyte declares 60000 images of 28x28, which").
inline void require_memory(double bytes, const std::string& what) {
  const double available = available_memory_bytes();
  if (available <= 0 || bytes <= 0.9 * available) return;
  throw Error(what + " needs " + gigabytes(bytes) + " of memory, more than the " + gigabytes(0.9 * available) +
              " this process may take (90 % of what the machine and its container have available).");
}

}  // namespace unetflow
