#pragma once
// What the site's sections are built with: the Builder (a section per deliverable, its figures copied from the runs,
// the runs it used or misses) and the phrases and tables every section draws from a run's summary.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "format.hpp"
#include "sections.hpp"
#include "support/deliverable_files.hpp"

namespace report {

using json = nlohmann::json;
namespace files = examples::files;

inline json table(const std::string& title, const std::vector<std::string>& header) {
  json t{{"title", title}, {"header", json::array()}, {"rows", json::array()}};
  for (const auto& h : header) t["header"].push_back({{"cell", h}});
  return t;
}

inline void add_row(json& t, const std::vector<std::string>& cells) {
  json row{{"cells", json::array()}};
  for (const auto& c : cells) row["cells"].push_back({{"cell", c}});
  t["rows"].push_back(row);
}

// "epoch10" -> 10; -1 for other names.
inline int epoch_of(const std::string& tag) {
  if (tag.rfind("epoch", 0) != 0 || tag.size() == 5 || tag.size() > 11) return -1;
  int e = 0;
  for (char c : tag.substr(5)) {
    if (c < '0' || c > '9') return -1;
    e = e * 10 + (c - '0');
  }
  return e;
}

// The epochs for which the run lists <prefix><epoch><suffix>, in order.
inline std::vector<int> listed_epochs(const Run& run, const std::string& prefix, const std::string& suffix) {
  std::vector<int> epochs;
  for (const auto& [name, what] : run.files())
    if (name.size() > prefix.size() + suffix.size() && name.rfind(prefix, 0) == 0 &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      const int e = epoch_of("epoch" + name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
      if (e >= 0) epochs.push_back(e);
    }
  std::sort(epochs.begin(), epochs.end());
  return epochs;
}

inline std::string sigma_list(const std::vector<double>& sigmas) {
  std::string s;
  for (double x : sigmas) append(s, ", ", fixed(x, x * 10 == std::round(x * 10) ? 1 : 2));
  return s;
}

class Builder {
 public:
  Builder(const RunFolder& folder, SiteContent& out) : folder_(folder), out_(out) {}

  // A section for a deliverable made by `runs`; those that are absent or unreadable make it (partly) missing,
  // with the commands that make them.
  json section(const std::string& id, const std::string& title, const std::vector<std::string>& runs,
               const std::vector<std::string>& commands) {
    std::string lower = id;
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    json s{{"id", lower},
           {"label", id},
           {"title", title},
           {"figures", json::array()},
           {"tables", json::array()},
           {"answer", json::array()},
           {"runs", json::array()},
           {"missing", json::array()},
           {"notes", json::array()}};
    int present = 0;
    std::vector<std::string> unreadable;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const auto& name = runs[i];
      if (folder_.find(name)) {
        ++present;
        s["runs"].push_back({{"name", name}, {"anchor", "run-" + anchor(name)}});
        used_.insert(name);
        continue;
      }
      std::string why = folder_.problem(name);
      if (!why.empty())
        unreadable.push_back(name);
      else
        why = (folder_.shown() / name).string() + "/ does not exist (no run yet)";
      s["missing"].push_back({{"why", why}, {"command", commands[std::min(i, commands.size() - 1)]}});
    }
    for (const auto& name : unreadable) affected_[name].push_back(present > 0 ? id + " (in part)" : id);
    s["present"] = present > 0;
    return s;
  }

  const Run* run(const std::string& name) const { return folder_.find(name); }

  // Adds a figure of `run` to the section when the run lists it and it is a PNG on disk.
  bool figure(json& s, const Run& r, const std::string& file, const std::string& caption) {
    const auto path = r.image(file);
    if (!path) return false;
    const std::string to = "img/" + anchor(r.name()) + "/" + file;
    if (copied_.insert(to).second) out_.images.push_back({*path, to});
    s["figures"].push_back({{"src", to}, {"caption", caption}, {"alt", r.files().at(file)}});
    return true;
  }

  const std::set<std::string>& used() const { return used_; }

  // One sentence for each run folder that is there but could not be read, naming what it leaves missing.
  std::vector<std::string> unreadable_runs() const {
    std::vector<std::string> sentences;
    for (const auto& [name, ids] : affected_) {
      std::string list;
      for (const auto& id : ids) append(list, ", ", id);
      sentences.push_back(folder_.problem(name) + "; " + list + (ids.size() > 1 ? " are" : " is") +
                          " shown as missing.");
    }
    for (const auto& [name, problem] : folder_.damaged())
      if (!affected_.count(name)) sentences.push_back(problem + "; the run is left out.");
    return sentences;
  }

  // Names become anchors and folder names on the site: letters, digits, '-' and '_' only.
  static std::string anchor(const std::string& name) {
    std::string a;
    for (char c : name) a += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '-';
    return a;
  }

 private:
  const RunFolder& folder_;
  SiteContent& out_;
  std::set<std::string> used_, copied_;
  std::map<std::string, std::vector<std::string>>
      affected_;  // unreadable run -> the deliverables it leaves missing (or in part)
};

inline std::string model_phrase(const Run& r) {
  const auto model = r.text({"config", "model"});
  const auto params = r.number({"config", "parameters"});
  if (!model) return "";
  return *model + (params ? " (" + count(*params) + " parameters)" : "");
}

// Training numbers of any run that trained: steps, epochs, final loss, wall time, images per second, device.
inline json training_table(const Run& r) {
  json t = table("Training (" + r.name() + ")", {"measure", "value"});
  const auto steps = r.number({"training", "steps"});
  const auto batch = r.number({"config", "batch"});
  const auto epoch_seconds = r.numbers({"training", "epoch_seconds"});
  double wall = 0;
  for (double s : epoch_seconds) wall += s;
  add_row(t, {"model", model_phrase(r).empty() ? "—" : model_phrase(r)});
  add_row(t, {"epochs completed", or_dash(r.number({"training", "epochs_completed"}), count)});
  add_row(t, {"steps (batches)", or_dash(steps, count) + (batch ? " of " + count(*batch) + " images" : "")});
  add_row(t, {"final training loss", or_dash(r.number({"training", "final_loss"}), significant)});
  if (const auto lr = r.number({"training", "final_lr"})) add_row(t, {"final learning rate", significant(*lr)});
  add_row(t, {"training time", epoch_seconds.empty() ? "—" : duration(wall)});
  if (steps && batch && wall > 0) add_row(t, {"training images/s", fixed(*steps * *batch / wall, 0)});
  add_row(t, {"device", r.text({"config", "device"}).value_or("—")});
  return t;
}

// Scores per sampled epoch (and of the final model), with the sampling time: every flow run.
inline json scores_table(const Run& r, bool conditioned) {
  std::vector<std::string> header{"samples of", "n", "sampling time", "samples/s"};
  if (conditioned) header.push_back("as asked");
  for (const char* h : {"confident", "class spread", "Fréchet distance"}) header.push_back(h);
  json t = table("Samples and their scores (" + r.name() + ")", header);
  // One row; `score(key)` reads that row's score (an epoch's, or the final model's).
  auto add = [&](const std::string& what, auto score, std::optional<double> n, std::optional<double> seconds) {
    if (!n) n = score("samples");
    std::vector<std::string> row{what, or_dash(n, count), or_dash(seconds, duration),
                                 n && seconds && *seconds > 0 ? fixed(*n / *seconds, 1) : "—"};
    if (conditioned) row.push_back(or_dash(score("accuracy"), percent));
    row.push_back(or_dash(score("confident_share"), percent));
    row.push_back(or_dash(score("class_spread"), [](double x) { return fixed(x, 3); }));
    row.push_back(or_dash(score("frechet_distance"), [](double x) { return fixed(x, 1); }));
    add_row(t, row);
  };
  std::vector<std::pair<int, std::string>> tags;
  if (const auto* sampling = r.object({"sampling"}))
    for (const auto& [tag, v] : sampling->items())
      if (epoch_of(tag) >= 0) tags.emplace_back(epoch_of(tag), tag);
  std::sort(tags.begin(), tags.end());
  for (const auto& [epoch, tag] : tags) {
    const char* k = tag.c_str();
    add(
        "epoch " + std::to_string(epoch),
        [&](const char* key) {
          return r.number({"scores", k, key});
        },
        r.number({"sampling", k, "samples"}), r.number({"sampling", k, "seconds"}));
  }
  if (r.object({"final_scores"}))
    add(
        "final model",
        [&](const char* key) {
          return r.number({"final_scores", key});
        },
        std::nullopt, r.number({"final_scores", "sampling_seconds"}));
  return t;
}

inline std::string flow_sampling_phrase(const Run& r) {
  const auto steps = r.number({"config", "sample_steps"});
  const auto solver = r.text({"config", "solver"}).value_or("euler");
  std::string s = steps ? count(*steps) + " " + (solver == "euler" ? "Euler" : solver) + " steps" : solver + " solver";
  if (const auto ema = r.number({"config", "ema_decay"}); ema && *ema > 0) {
    const auto statistics = r.text({"config", "ema_statistics"}).value_or("running");
    s += ", EMA weights (decay " + plain(*ema) +
         (statistics == "recomputed" ? ", batch-norm statistics recomputed for them"
          : statistics == "averaged" ? ", batch-norm statistics averaged with them"
                                     : "") +
         ")";
  }
  return s;
}

inline std::string data_phrase(const Run& r) {
  const auto data = r.text({"config", "data"});
  return data ? ", data " + *data : "";
}

inline std::string of_epochs(const Run& r, int epoch) {
  const auto total = r.number({"config", "epochs"});
  return "epoch " + std::to_string(epoch) + (total ? " of " + count(*total) : "");
}

// A figure of a run's samples at every epoch it lists <prefix><epoch>.png.
inline void sample_figures(Builder& b, json& s, const Run& r, const std::string& prefix, const std::string& what) {
  for (int e : listed_epochs(r, prefix, ".png"))
    b.figure(s, r, prefix + std::to_string(e) + ".png",
             what + " after " + of_epochs(r, e) + " (" + flow_sampling_phrase(r) + data_phrase(r) +
                 "; the same starting noise at every epoch).");
}

// Part 1's sections (sections_part1.cpp).
json d1(Builder& b);
json d2(Builder& b);
json d3(Builder& b);
json d4(Builder& b);
json d5(Builder& b);
json d6(Builder& b);
// D12 (sections_d12.cpp).
json d12(Builder& b);
// Part 3 beyond D12 and D13 (sections_part3.cpp): the guidance sweep and the emoji.
json guidance(Builder& b);
json emoji(Builder& b);
// PyTorch's examples, ported (sections_pytorch.cpp).
json p1(Builder& b);
json p2(Builder& b);
json p3(Builder& b);

}  // namespace report
