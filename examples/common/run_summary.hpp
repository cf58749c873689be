#pragma once
// runs/<name>/summary.json: the run's configuration, timings, results and the files it wrote.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <unetflow/io/atomic_file.hpp>

namespace examples {

// The commit of the sources this program was built from ("<hash>-modified" with uncommitted changes).
const char* build_commit();

class RunSummary {
 public:
  explicit RunSummary(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
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
    json_["commit"] = build_commit();
    unetflow::write_atomically(path(), json_.dump(2) + "\n");
  }

 private:
  std::filesystem::path dir_;
  nlohmann::json json_ = nlohmann::json::object();
};

}  // namespace examples
