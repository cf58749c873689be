#pragma once
// One writer per folder. Two processes writing one run folder would share its temporaries and leave a mix of both
// runs' files, so every program that writes into a folder first takes
//   auto lock = lock_folder(dir, lock_file);     // dir/.unetflow.lock by default
// an exclusive flock(2) on a file in it. The kernel releases the lock when the process ends, however it ends (kill -9
// included), so a lock is never stale. A second process stops with one sentence naming the folder and the process
// that holds it. Within one process the lock is shared: the trainer and a program's run summary both ask for it.
// The lock file stays (empty) in the folder: removing it would let a third process lock a new file while the
// second still holds the old one.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include "../error.hpp"

namespace unetflow {

class FolderLock {
 public:
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  ~FolderLock() { ::close(fd_); }  // closing the last descriptor releases the lock
  const std::filesystem::path& file() const { return file_; }

  // The process that holds a flock on `file` ("process 1234 (train_flow)"), from /proc/locks; "another process"
  // when it cannot be told (another pid namespace, no /proc).
  static std::string holder_of(const std::filesystem::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return "another process";
    std::ostringstream id;
    id << std::hex << std::setfill('0') << std::setw(2) << major(st.st_dev) << ':' << std::setw(2) << minor(st.st_dev)
       << ':' << std::dec << st.st_ino;
    std::ifstream locks("/proc/locks");
    for (std::string line; std::getline(locks, line);) {
      std::istringstream fields(line);
      std::string number, kind, advisory, mode, pid, where;
      if (!(fields >> number >> kind)) continue;
      if (kind == "->") fields >> kind;  // a waiter, listed under the holder
      if (!(fields >> advisory >> mode >> pid >> where) || kind != "FLOCK" || where != id.str()) continue;
      // The program's name from its command line (a program that started itself again shows "exe" as its comm).
      std::ifstream cmdline("/proc/" + pid + "/cmdline", std::ios::binary);
      std::string argv0;
      std::getline(cmdline, argv0, '\0');
      const std::string name = std::filesystem::path(argv0).filename().string();
      return "process " + pid + (name.empty() ? "" : " (" + name + ")");
    }
    return "another process";
  }

 private:
  friend std::shared_ptr<FolderLock> lock_folder(const std::filesystem::path&, const std::string&);
  FolderLock(int fd, std::filesystem::path file) : fd_(fd), file_(std::move(file)) {}
  int fd_;
  std::filesystem::path file_;
};

inline constexpr const char* default_lock_file = ".unetflow.lock";

// Creates `dir` when needed and locks dir/lock_file for this process, or throws Error when another process holds it.
// The lock lasts as long as any copy of the returned pointer.
inline std::shared_ptr<FolderLock> lock_folder(const std::filesystem::path& dir,
                                               const std::string& lock_file = default_lock_file) {
  namespace fs = std::filesystem;
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<FolderLock>> held;  // this process's locks, by the lock file's path
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create the folder " + dir.string() + " (" + ec.message() + ").");
  const fs::path file = dir / lock_file;
  const std::string key = fs::weakly_canonical(fs::absolute(file), ec).string();
  std::lock_guard guard(mutex);
  if (auto existing = held[key].lock()) return existing;
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot create the lock file " + file.string() + " (" + std::strerror(errno) + ").");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK)
      throw Error(dir.string() + " is being written by " + FolderLock::holder_of(file) +
                  ": one folder takes one writer at a time, so wait for it to end or write elsewhere.");
    throw Error("cannot lock " + file.string() + " (" + std::strerror(error) + ").");
  }
  std::shared_ptr<FolderLock> lock(new FolderLock(fd, file));
  held[key] = lock;
  return lock;
}

}  // namespace unetflow
