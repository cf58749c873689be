#pragma once
// RUN/summary.json: a run's configuration, timings, results and the files it wrote, as one JSON object that the
// run's program fills in and writes (atomically) as often as it likes; a resumed run continues the one it finds.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "atomic_file.hpp"
#include "folder_lock.hpp"

namespace unetflow {

// The process that writes the run holds the run folder's lock (io/folder_lock.hpp) for the summary's life: a second
// program started on the same folder stops with one sentence instead of mixing its files in. `writes`: false for the
// processes of a data-parallel run other than rank 0, which read the summary but never write into the folder.
// `commit`: what built the program (recorded as "commit" at every write; empty: not recorded).
class RunSummary {
 public:
  explicit RunSummary(std::filesystem::path dir, bool writes = true, std::string commit = {})
      : dir_(std::move(dir)), commit_(std::move(commit)) {
    if (writes) lock_ = lock_folder(dir_);
    // A resumed run continues the summary of the run it resumes.
    if (std::ifstream in(path()); in) {
      try {
        json_ = nlohmann::json::parse(in);
      } catch (...) {
        json_ = nlohmann::json::object();
      }
    }
  }
  nlohmann::json& operator[](const std::string& key) { return json_[key]; }
  // Records a file of the run (relative to the run directory) and returns its full path.
  std::filesystem::path file(const std::string& name, const std::string& what) {
    json_["files"][name] = what;
    return dir_ / name;
  }
  std::filesystem::path path() const { return dir_ / "summary.json"; }
  // Every write records the commit of the program that wrote it (a resumed run: the last one).
  void write() {
    if (!lock_)
      throw Error("the run summary of " + dir_.string() + " was opened by a process that does not write the run.");
    if (!commit_.empty()) json_["commit"] = commit_;
    write_atomically(path(), json_.dump(2) + "\n");
  }

 private:
  std::filesystem::path dir_;
  std::string commit_;
  std::shared_ptr<FolderLock> lock_;
  nlohmann::json json_ = nlohmann::json::object();
};

}  // namespace unetflow
