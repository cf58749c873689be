#include "run_folder.hpp"

#include "format.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <system_error>

namespace report {

namespace {

// A summary is a few kilobytes; anything this large is not one of ours.
constexpr std::uintmax_t max_summary_bytes = 16u << 20;

bool plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name.find('\0') == std::string::npos;
}

bool is_png(const fs::path& path) {
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::ifstream in(path, std::ios::binary);
  unsigned char head[8] = {};
  return in.read(reinterpret_cast<char*>(head), 8) && std::equal(head, head + 8, signature);
}

// Reads and checks one summary: a JSON object whose "files", when present, maps names to descriptions.
// Returns the problem in one sentence, or "" with `out` filled.
std::string read_summary(const fs::path& path, nlohmann::json& out) {
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (ec) return "cannot be read (" + ec.message() + ")";
  if (bytes > max_summary_bytes) return "is " + std::to_string(bytes) + " bytes, too large for a run summary";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot be opened";
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return "cannot be read";
  out = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) return text.empty() ? "is empty" : "is not valid JSON (truncated or damaged)";
  if (!out.is_object()) return "is not a JSON object";
  if (out.contains("files") && !out["files"].is_object()) return "has a \"files\" entry that is not an object";
  if (out.contains("config") && !out["config"].is_object()) return "has a \"config\" entry that is not an object";
  return "";
}

}  // namespace

const nlohmann::json* Run::find(std::initializer_list<const char*> path) const {
  const nlohmann::json* j = &summary_;
  for (const char* key : path) {
    if (!j->is_object()) return nullptr;
    const auto it = j->find(key);
    if (it == j->end()) return nullptr;
    j = &*it;
  }
  return j;
}

std::string Run::where(std::initializer_list<const char*> path) const {
  std::string s;
  for (const char* key : path) append(s, ".", key);
  return (shown_ / "summary.json").string() + ": " + s;
}

std::optional<double> Run::number(std::initializer_list<const char*> path) const {
  const auto* j = find(path);
  if (!j || j->is_null()) return std::nullopt;
  if (!j->is_number()) {
    warnings_.push_back(where(path) + " is not a number; shown as empty.");
    return std::nullopt;
  }
  return j->get<double>();
}

std::optional<std::string> Run::text(std::initializer_list<const char*> path) const {
  const auto* j = find(path);
  if (!j || j->is_null()) return std::nullopt;
  if (j->is_string()) return j->get<std::string>();
  if (j->is_number() || j->is_boolean()) return j->dump();
  warnings_.push_back(where(path) + " is not a text or a number; shown as empty.");
  return std::nullopt;
}

const nlohmann::json* Run::of_kind(std::initializer_list<const char*> path, bool (nlohmann::json::*is)() const noexcept,
                                   const char* kind) const {
  const auto* j = find(path);
  if (!j || j->is_null()) return nullptr;
  if (!(j->*is)()) {
    warnings_.push_back(where(path) + " is not " + kind + "; left out.");
    return nullptr;
  }
  return j;
}

const nlohmann::json* Run::object(std::initializer_list<const char*> path) const {
  return of_kind(path, &nlohmann::json::is_object, "an object");
}

const nlohmann::json* Run::array(std::initializer_list<const char*> path) const {
  return of_kind(path, &nlohmann::json::is_array, "a list");
}

std::vector<double> Run::numbers(std::initializer_list<const char*> path) const {
  const auto* j = find(path);
  if (!j || j->is_null()) return {};
  std::vector<double> v;
  if (j->is_array() && std::all_of(j->begin(), j->end(), [](const auto& e) { return e.is_number(); })) {
    for (const auto& e : *j) v.push_back(e.get<double>());
    return v;
  }
  warnings_.push_back(where(path) + " is not a list of numbers; left out.");
  return {};
}

std::optional<fs::path> Run::image(const std::string& name) const {
  if (!lists(name)) return std::nullopt;
  const auto path = dir_ / name;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    warnings_.push_back((shown_ / name).string() + " is listed in summary.json but is not on disk; left out.");
    return std::nullopt;
  }
  if (!is_png(path)) {
    warnings_.push_back((shown_ / name).string() + " is not a PNG image; left out.");
    return std::nullopt;
  }
  return path;
}

RunFolder::RunFolder(const fs::path& runs, const fs::path& skip) : path_(runs) {
  std::error_code ec;
  if (!fs::is_directory(runs, ec)) return;  // no run yet: every deliverable is missing
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(runs, ec))
    if (entry.is_directory(ec) && !fs::equivalent(entry.path(), skip, ec)) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& dir : dirs) {
    const std::string name = dir.filename().string();
    const auto path = dir / "summary.json", shown_summary = shown() / name / "summary.json";
    if (!fs::exists(path, ec)) {  // a warning only where a deliverable needs this run (sections.cpp)
      absent_[name] = shown_summary.string() + " does not exist";
      continue;
    }
    nlohmann::json summary;
    if (auto problem = read_summary(path, summary); !problem.empty()) {
      problems_[name] = shown_summary.string() + " " + problem;
      continue;
    }
    Run run(name, dir, shown() / name, std::move(summary));
    if (const auto* files = run.find({"files"}))
      for (const auto& [file, what] : files->items()) {
        if (!plain_file_name(file)) {
          run.warnings_.push_back(shown_summary.string() + ": the listed file \"" + file +
                                  "\" is not a name inside the run folder; left out.");
          continue;
        }
        run.files_[file] = what.is_string() ? what.get<std::string>() : "";
      }
    runs_.emplace(name, std::move(run));
  }
}

const Run* RunFolder::find(const std::string& name) const {
  const auto it = runs_.find(name);
  return it == runs_.end() ? nullptr : &it->second;
}

std::string RunFolder::problem(const std::string& name) const {
  if (const auto it = problems_.find(name); it != problems_.end()) return it->second;
  if (const auto it = absent_.find(name); it != absent_.end()) return it->second;
  return "";
}

std::vector<std::string> RunFolder::field_warnings() const {
  std::vector<std::string> all;
  for (const auto& [name, run] : runs_) all.insert(all.end(), run.warnings().begin(), run.warnings().end());
  return all;
}

}  // namespace report
