#pragma once
// The runs a site is built from: every runs/<name>/summary.json that reads, checked before it is trusted. A summary
// that does not read (missing, not JSON, the wrong structure) becomes one problem sentence for its run, and the
// deliverables of that run are shown as missing; a field of the wrong type becomes a warning and an empty cell.
#include <filesystem>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace report {

namespace fs = std::filesystem;

class Run {
 public:
  Run(std::string name, fs::path dir, fs::path shown, nlohmann::json summary)
      : name_(std::move(name)), dir_(std::move(dir)), shown_(std::move(shown)), summary_(std::move(summary)) {}

  const std::string& name() const { return name_; }
  const fs::path& dir() const { return dir_; }
  const nlohmann::json& summary() const { return summary_; }

  // A field by its path ({"test", "mse_denoised"}): nullopt when absent; a warning when present with another type.
  std::optional<double> number(std::initializer_list<const char*> path) const;
  std::optional<std::string> text(std::initializer_list<const char*> path) const;
  // An object field (nullptr when absent or not an object).
  const nlohmann::json* object(std::initializer_list<const char*> path) const;
  // A list field (nullptr when absent or not a list).
  const nlohmann::json* array(std::initializer_list<const char*> path) const;
  // A list of numbers ({} when absent; a warning when any element is not a number).
  std::vector<double> numbers(std::initializer_list<const char*> path) const;

  // The files the summary lists (name -> what it is), only plain file names inside the run folder.
  const std::map<std::string, std::string>& files() const { return files_; }
  // A listed image that is on disk and is a PNG; otherwise nullopt and a warning naming it.
  std::optional<fs::path> image(const std::string& name) const;
  bool lists(const std::string& name) const { return files_.count(name) > 0; }

  std::vector<std::string>& warnings() const { return warnings_; }

 private:
  friend class RunFolder;
  const nlohmann::json* find(std::initializer_list<const char*> path) const;
  // The field at `path` when `is` holds for it; nullptr when absent or null, and a warning naming `kind` otherwise.
  const nlohmann::json* of_kind(std::initializer_list<const char*> path, bool (nlohmann::json::*is)() const noexcept,
                                const char* kind) const;
  std::string where(std::initializer_list<const char*> path) const;

  std::string name_;
  fs::path dir_;
  fs::path shown_;  // how messages and the site name it: <runs folder's name>/<run>, never an absolute path
  nlohmann::json summary_;
  std::map<std::string, std::string> files_;
  mutable std::vector<std::string> warnings_;
};

class RunFolder {
 public:
  // Reads every immediate subfolder of `runs` that holds a summary.json, except `skip` (the site's own folder).
  RunFolder(const fs::path& runs, const fs::path& skip);

  const Run* find(const std::string& name) const;
  // Why the run of that name could not be read ("" when it was read or is not there at all).
  std::string problem(const std::string& name) const;
  const std::map<std::string, Run>& runs() const { return runs_; }
  const fs::path& path() const { return path_; }
  // The folder as messages and the site name it (its own name: "runs"), so the site holds no absolute path.
  fs::path shown() const { return path_.filename().empty() ? path_.parent_path().filename() : path_.filename(); }
  // The runs whose summary.json does not read: name -> the problem (a sentence without its full stop).
  const std::map<std::string, std::string>& damaged() const { return problems_; }
  // Every field warning so far, one sentence each, in folder order.
  std::vector<std::string> field_warnings() const;

 private:
  fs::path path_;
  std::map<std::string, Run> runs_;
  std::map<std::string, std::string> problems_;  // a summary.json that does not read
  std::map<std::string, std::string> absent_;    // a folder without summary.json
};

}  // namespace report
