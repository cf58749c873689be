#pragma once
// runs/<name>/summary.json: the run's configuration, timings, results and the files it wrote.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <unetflow/io/atomic_file.hpp>
#include <unetflow/io/folder_lock.hpp>

namespace examples {

// The commit of the sources this program was built from ("<hash>-modified" with uncommitted changes).
const char* build_commit();

// The process that writes the run holds the run folder's lock (io/folder_lock.hpp) for the summary's life: a second
// program started on the same folder stops with one sentence instead of mixing its files in. `writes`: false for the
// processes of a data-parallel run other than rank 0, which read the summary but never write into the folder.
class RunSummary {
 public:
  explicit RunSummary(std::filesystem::path dir, bool writes = true) : dir_(std::move(dir)) {
    if (writes) lock_ = unetflow::lock_folder(dir_);
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
    if (!lock_) throw unetflow::Error("the run summary of " + dir_.string() + " was opened by a process that does not write the run.");
    json_["commit"] = build_commit();
    unetflow::write_atomically(path(), json_.dump(2) + "\n");
  }

 private:
  std::filesystem::path dir_;
  std::shared_ptr<unetflow::FolderLock> lock_;
  nlohmann::json json_ = nlohmann::json::object();
};

}  // namespace examples
