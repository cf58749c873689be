#include "sections.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <map>
#include <set>
#include <system_error>

#include "format.hpp"

namespace report {

namespace {

using json = nlohmann::json;

json table(const std::string& title, const std::vector<std::string>& header) {
  json t{{"title", title}, {"header", json::array()}, {"rows", json::array()}};
  for (const auto& h : header) t["header"].push_back({{"cell", h}});
  return t;
}

void add_row(json& t, const std::vector<std::string>& cells) {
  json row{{"cells", json::array()}};
  for (const auto& c : cells) row["cells"].push_back({{"cell", c}});
  t["rows"].push_back(row);
}

// "epoch10" -> 10; -1 for other names.
int epoch_of(const std::string& tag) {
  if (tag.rfind("epoch", 0) != 0 || tag.size() == 5 || tag.size() > 11) return -1;
  int e = 0;
  for (char c : tag.substr(5)) {
    if (c < '0' || c > '9') return -1;
    e = e * 10 + (c - '0');
  }
  return e;
}

// The epochs for which the run lists <prefix><epoch><suffix>, in order.
std::vector<int> listed_epochs(const Run& run, const std::string& prefix, const std::string& suffix) {
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

std::string sigma_list(const std::vector<double>& sigmas) {
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
    json s{{"id", "d" + id.substr(1)}, {"label", id},   {"title", title},         {"figures", json::array()},
           {"tables", json::array()},  {"answer", json::array()}, {"runs", json::array()}, {"missing", json::array()},
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
      if (!why.empty()) unreadable.push_back(name);
      else why = (folder_.shown() / name).string() + "/ does not exist (no run yet)";
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
      sentences.push_back(folder_.problem(name) + "; " + list + (ids.size() > 1 ? " are" : " is") + " shown as missing.");
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
  std::map<std::string, std::vector<std::string>> affected_;  // unreadable run -> the deliverables it leaves missing (or in part)
};

std::string model_phrase(const Run& r) {
  const auto model = r.text({"config", "model"});
  const auto params = r.number({"config", "parameters"});
  if (!model) return "";
  return *model + (params ? " (" + count(*params) + " parameters)" : "");
}

// Training numbers of any run that trained: steps, epochs, final loss, wall time, images per second, device.
json training_table(const Run& r) {
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
json scores_table(const Run& r, bool conditioned) {
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
    add("epoch " + std::to_string(epoch), [&](const char* key) { return r.number({"scores", k, key}); },
        r.number({"sampling", k, "samples"}), r.number({"sampling", k, "seconds"}));
  }
  if (r.object({"final_scores"}))
    add("final model", [&](const char* key) { return r.number({"final_scores", key}); }, std::nullopt,
        r.number({"final_scores", "sampling_seconds"}));
  return t;
}

std::string flow_sampling_phrase(const Run& r) {
  const auto steps = r.number({"config", "sample_steps"});
  const auto solver = r.text({"config", "solver"}).value_or("euler");
  std::string s = steps ? count(*steps) + " " + (solver == "euler" ? "Euler" : solver) + " steps" : solver + " solver";
  if (const auto ema = r.number({"config", "ema_decay"}); ema && *ema > 0) s += ", EMA weights (decay " + plain(*ema) + ")";
  return s;
}

std::string data_phrase(const Run& r) {
  const auto data = r.text({"config", "data"});
  return data ? ", data " + *data : "";
}

std::string of_epochs(const Run& r, int epoch) {
  const auto total = r.number({"config", "epochs"});
  return "epoch " + std::to_string(epoch) + (total ? " of " + count(*total) : "");
}

// ---- Part 1 ----

json d1(Builder& b) {
  auto s = b.section("D1", "Noising: test digits at increasing σ", {"noising"}, {"build/examples/noising_figure --data data/mnist"});
  if (const auto* r = b.run("noising")) {
    const auto sigmas = r->numbers({"config", "sigmas"});
    const auto digits = r->number({"config", "digits"});
    b.figure(s, *r, "d1_noising.png",
             or_dash(digits, count) + " test digits (rows), noised as z = x + σε with σ = " + sigma_list(sigmas) +
                 " (columns, left to right); seed " + r->text({"config", "seed"}).value_or("—") + data_phrase(*r) + ".");
  }
  return s;
}

const std::string denoiser_command = "build/examples/train_denoiser --data data/mnist --preset quick";
const std::string pure_noise_command = "build/examples/train_pure_noise --data data/mnist --preset quick";

json d2(Builder& b) {
  auto s = b.section("D2", "Training loss of the σ = 0.5 denoiser", {"denoiser"}, {denoiser_command});
  if (const auto* r = b.run("denoiser")) {
    b.figure(s, *r, "d2_loss.png",
             "Training loss (MSE) of every step and its moving average: " + model_phrase(*r) + ", σ = " +
                 or_dash(r->number({"config", "sigma"}), [](double x) { return fixed(x, 2); }) + ", batch " +
                 or_dash(r->number({"config", "batch"}), count) + ", Adam lr " + or_dash(r->number({"config", "lr"}), plain) + ".");
    s["tables"].push_back(training_table(*r));
  }
  return s;
}

json d3(Builder& b) {
  auto s = b.section("D3", "Denoised test digits at σ = 0.5", {"denoiser"}, {denoiser_command});
  if (const auto* r = b.run("denoiser")) {
    for (int e : listed_epochs(*r, "d3_results_epoch", ".png"))
      b.figure(s, *r, "d3_results_epoch" + std::to_string(e) + ".png",
               "Test digits after " + of_epochs(*r, e) + ": clean (top row), noisy at σ = 0.5 (middle), denoised (bottom).");
    json t = table("Test-set MSE after the last epoch", {"measure", "value"});
    add_row(t, {"test images", or_dash(r->number({"test", "images"}), count)});
    add_row(t, {"σ", or_dash(r->number({"test", "sigma"}), [](double x) { return fixed(x, 2); })});
    add_row(t, {"MSE of the noisy input", or_dash(r->number({"test", "mse_noisy_input"}), significant)});
    add_row(t, {"MSE of the denoised output", or_dash(r->number({"test", "mse_denoised"}), significant)});
    add_row(t, {"improvement", or_dash(r->number({"test", "improvement"}), [](double x) { return fixed(x, 2) + "×"; })});
    s["tables"].push_back(t);
  }
  return s;
}

json d4(Builder& b) {
  auto s = b.section("D4", "Out of distribution: the σ = 0.5 denoiser at other σ", {"denoiser"}, {denoiser_command});
  if (const auto* r = b.run("denoiser"))
    b.figure(s, *r, "d4_out_of_distribution.png",
             "The same test digits noised at σ = 0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0 (columns), each digit's noisy input above its "
             "denoised output, all by the model trained at σ = 0.5 (" + of_epochs(*r, int(r->number({"training", "epochs_completed"}).value_or(0))) + ").");
  return s;
}

json d5(Builder& b) {
  auto s = b.section("D5", "A denoiser of pure noise draws the mean digit", {"pure_noise"}, {pure_noise_command});
  const auto* r = b.run("pure_noise");
  if (!r) return s;
  b.figure(s, *r, "d5_loss.png", "Training loss of the pure-noise denoiser (input z = ε, target x): " + model_phrase(*r) + ".");
  for (int e : listed_epochs(*r, "d5_samples_epoch", ".png"))
    b.figure(s, *r, "d5_samples_epoch" + std::to_string(e) + ".png",
             "After " + of_epochs(*r, e) + ": pure-noise inputs (top row) and the model's outputs (bottom).");
  b.figure(s, *r, "d5_centroid.png", "The mean training digit (left) beside the average of the model's outputs (right).");
  const auto to_mean = r->number({"centroid", "mse_output_to_mean_training_digit"});
  const auto test_to_mean = r->number({"centroid", "mse_test_digit_to_mean_training_digit"});
  const auto spread = r->number({"centroid", "mse_output_to_average_output"});
  json t = table("Where the outputs are (MSE per pixel)", {"measure", "value"});
  add_row(t, {"pure-noise inputs", or_dash(r->number({"centroid", "images"}), count)});
  add_row(t, {"output to the mean training digit", or_dash(to_mean, significant)});
  add_row(t, {"real test digit to the mean training digit", or_dash(test_to_mean, significant)});
  add_row(t, {"output to the average output", or_dash(spread, significant)});
  s["tables"].push_back(t);
  s["tables"].push_back(training_table(*r));
  s["answer_title"] = "Why the output is the mean digit";
  s["answer"].push_back({{"p", "With pure noise as input, z carries no information about the target x: the two are independent. "
                                "The loss E‖D(z) − x‖² then splits, for every z, into ‖D(z) − E[x]‖² + E‖x − E[x]‖², and only the "
                                "first term depends on the model. It is smallest at D(z) = E[x] for every z: the pixel-wise mean of "
                                "the training digits, a blurred overlay of all ten. The model learns to ignore its input and draw that "
                                "one image, and the loss cannot go below the data's variance around its mean."}});
  if (to_mean && test_to_mean && spread)
    s["answer"].push_back({{"p", "Measured here: the outputs lie at a mean squared distance of " + significant(*to_mean) +
                                     " per pixel from the mean training digit, against " + significant(*test_to_mean) +
                                     " for real test digits, and differ from their own average by only " + significant(*spread) +
                                     ": every output is nearly the same image."}});
  return s;
}

json d6(Builder& b) {
  auto s = b.section("D6", "A checkpoint every epoch, and exact resume", {"denoiser", "pure_noise"}, {denoiser_command, pure_noise_command});
  json t = table("Checkpoints on disk", {"run", "epochs completed", "weights per epoch", "checkpoint.safetensors"});
  for (const char* name : {"denoiser", "pure_noise"}) {
    const auto* r = b.run(name);
    if (!r) continue;
    int per_epoch = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(r->dir(), ec)) {
      const auto f = entry.path().filename().string();
      per_epoch += f.rfind("model-epoch", 0) == 0 && entry.path().extension() == ".safetensors";
    }
    const auto checkpoint = r->dir() / "checkpoint.safetensors";
    const auto bytes = fs::is_regular_file(checkpoint, ec) ? fs::file_size(checkpoint, ec) : 0;
    add_row(t, {name, or_dash(r->number({"training", "epochs_completed"}), count), std::to_string(per_epoch),
                bytes ? fixed(double(bytes) / 1e6, 2) + " MB" : "absent"});
  }
  s["tables"].push_back(t);
  s["notes"].push_back({{"p", "After every epoch a training run writes checkpoint.safetensors (the model, Adam's moments, the "
                              "learning-rate schedule, the random generators and the progress: epoch and batch) and keeps that "
                              "epoch's weights as model-epochK.safetensors; every file is written to a temporary name and renamed, "
                              "so an interruption never leaves a partial checkpoint. The same command with --resume continues the run "
                              "and ends byte-identical to a run that was never stopped, also after kill -9 (the trainer's tests "
                              "check both). PyTorch loads the weights (load_file from safetensors)."}});
  return s;
}

// ---- Part 2 ----

const std::string flow_time_command = "build/examples/train_flow --data data/mnist --preset quick";
const std::string flow_class_command = "build/examples/train_flow --data data/mnist --classes --preset quick";
const std::string flow_noscheduler_command = "build/examples/train_flow --data data/mnist --classes --no-scheduler --preset quick";
const std::string flow_better_command = "build/examples/train_flow --data data/mnist --better --preset quick";

json loss_section(Builder& b, const std::string& id, const std::string& title, const std::string& run, const std::string& command,
                  const std::string& file, const std::string& what) {
  auto s = b.section(id, title, {run}, {command});
  if (const auto* r = b.run(run)) {
    b.figure(s, *r, file,
             "Training loss of every step and its moving average (" + what + "): " + model_phrase(*r) + ", batch " +
                 or_dash(r->number({"config", "batch"}), count) + ", Adam lr " + or_dash(r->number({"config", "lr"}), plain) +
                 ", " + r->text({"config", "schedule"}).value_or("schedule —") + "; dashed lines mark the epochs.");
    s["tables"].push_back(training_table(*r));
  }
  return s;
}

void sample_figures(Builder& b, json& s, const Run& r, const std::string& prefix, const std::string& what) {
  for (int e : listed_epochs(r, prefix, ".png"))
    b.figure(s, r, prefix + std::to_string(e) + ".png",
             what + " after " + of_epochs(r, e) + " (" + flow_sampling_phrase(r) + data_phrase(r) + "; the same starting noise at every epoch).");
}

json scoring_note(const Builder& b) {
  std::string accuracy;
  if (const auto* c = b.run("classifier"))
    if (const auto a = c->number({"test_accuracy"})) accuracy = ", " + percent(*a) + " accurate on the test set";
  return {{"p", "Scores: a small classifier trained on the same data set (runs/classifier" + accuracy + ") classifies the samples. "
                "\"As asked\" is the share classified as the class requested; \"confident\" the share it assigns to some "
                "class with probability ≥ 0.9; \"class spread\" the entropy of the predicted classes over log 10 (1: all "
                "classes equally often); the Fréchet distance compares the classifier's features of the samples and of the test "
                "set (lower is better; 40 samples carry a large small-sample bias, compare it between runs of equal n)."}};
}

json d8(Builder& b) {
  auto s = b.section("D8", "Samples of the time-conditioned model", {"flow_time"}, {flow_time_command});
  if (const auto* r = b.run("flow_time")) {
    sample_figures(b, s, *r, "d8_samples_epoch", "40 samples of the time-conditioned UNet");
    s["tables"].push_back(scores_table(*r, false));
    s["notes"].push_back(scoring_note(b));
  }
  return s;
}

json d10(Builder& b) {
  auto s = b.section("D10", "Class-conditioned samples with classifier-free guidance", {"flow_class"}, {flow_class_command});
  if (const auto* r = b.run("flow_class")) {
    const auto gamma = r->number({"config", "cfg_gamma"});
    sample_figures(b, s, *r, "d10_samples_epoch", "Four samples of each digit 0–9 (rows), CFG γ = " + or_dash(gamma, [](double x) { return fixed(x, 1); }) + ",");
    s["tables"].push_back(scores_table(*r, true));
    s["notes"].push_back(scoring_note(b));
  }
  return s;
}

json d11(Builder& b) {
  auto s = b.section("D11", "Without the learning-rate scheduler", {"flow_class_noscheduler"}, {flow_noscheduler_command});
  const auto* r = b.run("flow_class_noscheduler");
  if (!r) return s;
  const auto epochs = r->number({"config", "epochs"});
  b.figure(s, *r, "d11_comparison.png",
           "After " + or_dash(epochs, [](double e) { return "epoch " + count(e); }) +
               ": the scheduled run (runs/flow_class, left columns) beside this run without a scheduler (right), from the same "
               "starting noise, four samples of each digit.");
  b.figure(s, *r, "d11_loss.png", "Training loss without a scheduler: " + model_phrase(*r) + ", constant lr " +
                                      or_dash(r->number({"config", "lr"}), plain) + ".");
  if (!r->lists("d11_comparison.png")) sample_figures(b, s, *r, "d11_samples_epoch", "Four samples of each digit 0–9 (rows)");
  json t = table("Both runs at the last epoch, same noise", {"run", "as asked", "confident", "Fréchet distance"});
  for (const char* side : {"with_scheduler", "without_scheduler"}) {
    auto num = [&](const char* key) { return r->number({"comparison", side, key}); };
    add_row(t, {side == std::string("with_scheduler") ? "ExponentialLR (flow_class)" : "constant lr + EMA (this run)",
                or_dash(num("accuracy"), percent), or_dash(num("confident_share"), percent),
                or_dash(num("frechet_distance"), [](double x) { return fixed(x, 1); })});
  }
  if (r->object({"comparison"})) s["tables"].push_back(t);
  s["tables"].push_back(scores_table(*r, true));
  const auto lr = r->number({"config", "lr"});
  const auto ema = r->number({"config", "ema_decay"});
  s["answer_title"] = "What compensates for the scheduler";
  s["answer"].push_back({{"p", "ExponentialLR shrinks Adam's step tenfold over the run: large steps early to make progress, small steps "
                               "late so that the weights settle instead of jittering around a minimum with the noise of each batch. "
                               "Without it, two things take over that job: a constant learning rate of " + or_dash(lr, plain) +
                               ", about the geometric mean of the schedule's range (fast at the start, not so large that late training "
                               "keeps bouncing), and sampling from an exponential moving average of the weights (decay " +
                               or_dash(ema, plain) +
                               "). Averaging the last thousand or so iterates cancels the batch-to-batch jitter the way a decayed "
                               "step would, without knowing the run's length in advance."}});
  const auto with_acc = r->number({"comparison", "with_scheduler", "accuracy"});
  const auto without_acc = r->number({"comparison", "without_scheduler", "accuracy"});
  const auto with_fd = r->number({"comparison", "with_scheduler", "frechet_distance"});
  const auto without_fd = r->number({"comparison", "without_scheduler", "frechet_distance"});
  if (with_acc && without_acc && with_fd && without_fd)
    s["answer"].push_back({{"p", "Measured on the same starting noise after the last epoch: with the scheduler " + percent(*with_acc) +
                                     " of the samples are the digit asked for (Fréchet distance " + fixed(*with_fd, 1) +
                                     "), without it " + percent(*without_acc) + " (" + fixed(*without_fd, 1) + ")."}});
  return s;
}

// ---- Part 3 ----

json d12(Builder& b) {
  auto s = b.section("D12", "A better time-only model", {"flow_better"}, {flow_better_command});
  const auto* r = b.run("flow_better");
  if (!r) return s;
  const auto epochs = listed_epochs(*r, "d12_comparison_epoch", ".png");
  if (!epochs.empty())
    b.figure(s, *r, "d12_comparison_epoch" + std::to_string(epochs.back()) + ".png",
             "After " + of_epochs(*r, epochs.back()) + ", from the same starting noise: Part 2's time-conditioned UNet (top "
             "rows) and the better model (bottom rows, " + flow_sampling_phrase(*r) + ").");
  else
    sample_figures(b, s, *r, "d12_samples_epoch", "40 samples of the better time-only model");
  b.figure(s, *r, "d12_loss.png", "Training loss of the better model: " + model_phrase(*r) + ".");
  const auto* reference = b.run("flow_time");
  json t = table("Final models, scored on their own samples", {"model", "samples", "confident", "class spread", "Fréchet distance"});
  auto add = [&](const Run& run, const std::string& what) {
    auto num = [&](const char* key) { return run.number({"final_scores", key}); };
    add_row(t, {what, or_dash(num("samples"), count), or_dash(num("confident_share"), percent),
                or_dash(num("class_spread"), [](double x) { return fixed(x, 3); }),
                or_dash(num("frechet_distance"), [](double x) { return fixed(x, 1); })});
  };
  if (reference) add(*reference, "Part 2: " + reference->text({"config", "model"}).value_or("flow_time"));
  add(*r, "better: " + r->text({"config", "model"}).value_or("flow_better"));
  s["tables"].push_back(t);
  s["tables"].push_back(scores_table(*r, false));
  const auto arch = r->text({"config", "arch"}).value_or("");
  s["answer_title"] = "What made the time-only model better";
  s["answer"].push_back(
      {{"p", "The better model (" + r->text({"config", "model"}).value_or("—") + ", --arch " + (arch.empty() ? "—" : arch) +
                 ") tells every level of the UNet the time, not only the two upsampling levels of the assignment's wiring: each "
                 "level's features are scaled by a small network of t, so the whole UNet knows how noisy its input is. It trains "
                 "with the same data, batches and learning-rate schedule, samples from an exponential moving average of its weights "
                 "and integrates with the midpoint rule (" + flow_sampling_phrase(*r) + "). One change at a time, measured on 500 "
                 "samples each (docs/part3.md), conditioning every level on the time did as much as twice the training; the moving "
                 "average and the midpoint solver did not help the assignment's model alone but add a little on top of it; a "
                 "wider UNet did worse at this budget."}});
  const auto fd = r->number({"final_scores", "frechet_distance"});
  const auto confident = r->number({"final_scores", "confident_share"});
  if (reference && fd && confident) {
    const auto ref_fd = reference->number({"final_scores", "frechet_distance"});
    const auto ref_confident = reference->number({"final_scores", "confident_share"});
    if (ref_fd && ref_confident)
      s["answer"].push_back({{"p", "Measured here: Fréchet distance " + fixed(*ref_fd, 1) + " → " + fixed(*fd, 1) + ", samples the "
                                       "classifier is sure of " + percent(*ref_confident) + " → " + percent(*confident) + "."}});
  }
  return s;
}

json d13(Builder& b) {
  const std::string fashion = "/usr/share/datasets/fashion-mnist";
  auto s = b.section("D13", "Another data set: Fashion-MNIST", {"fashion_time", "fashion_class"},
                     {"build/examples/train_flow --data " + fashion + " --name fashion_time --preset quick",
                      "build/examples/train_flow --data " + fashion + " --classes --name fashion_class --preset quick"});
  if (const auto* r = b.run("fashion_time")) {
    const auto epochs = listed_epochs(*r, "d8_samples_epoch", ".png");
    if (!epochs.empty())
      b.figure(s, *r, "d8_samples_epoch" + std::to_string(epochs.back()) + ".png",
               "Time-conditioned samples after " + of_epochs(*r, epochs.back()) + " (" + flow_sampling_phrase(*r) + data_phrase(*r) + ").");
    s["tables"].push_back(scores_table(*r, false));
  }
  if (const auto* r = b.run("fashion_class")) {
    const auto epochs = listed_epochs(*r, "d10_samples_epoch", ".png");
    if (!epochs.empty())
      b.figure(s, *r, "d10_samples_epoch" + std::to_string(epochs.back()) + ".png",
               "Class-conditioned samples after " + of_epochs(*r, epochs.back()) + ", four of each class (rows), CFG γ = " +
                   or_dash(r->number({"config", "cfg_gamma"}), [](double x) { return fixed(x, 1); }) + " (" + flow_sampling_phrase(*r) +
                   data_phrase(*r) + ").");
    b.figure(s, *r, "d9_loss.png", "Training loss of the class-conditioned Fashion-MNIST model: " + model_phrase(*r) + ".");
    s["tables"].push_back(scores_table(*r, true));
  }
  if (const auto* c = b.run("classifier_fashion-mnist"))
    if (const auto accuracy = c->number({"test_accuracy"}))
      s["notes"].push_back({{"p", "Scored by a classifier of Fashion-MNIST (runs/classifier_fashion-mnist), " + percent(*accuracy) +
                                      " accurate on its test set."}});
  return s;
}

json part(const std::string& title, const std::string& intro, std::vector<json> sections) {
  return {{"title", title}, {"intro", intro}, {"sections", sections}};
}

// Every run's configuration, one card each, for the runs the sections link to and then the others.
json run_cards(const RunFolder& folder, const std::set<std::string>& used) {
  json cards = json::array();
  auto card = [&](const Run& r) {
    json c{{"name", r.name()}, {"anchor", "run-" + Builder::anchor(r.name())}, {"rows", json::array()}};
    if (const auto d = r.text({"deliverables"})) c["deliverables"] = *d;
    if (const auto* config = r.object({"config"}))
      for (const auto& [key, value] : config->items()) {
        auto text = [](const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); };
        std::string v;
        if (value.is_array())
          for (const auto& e : value) append(v, ", ", text(e));
        else
          v = text(value);
        c["rows"].push_back({{"key", key}, {"value", v}});
      }
    if (const auto device = r.text({"device"})) c["rows"].push_back({{"key", "device"}, {"value", *device}});
    if (const auto accuracy = r.number({"test_accuracy"})) c["rows"].push_back({{"key", "test accuracy"}, {"value", percent(*accuracy)}});
    c["rows"].push_back({{"key", "commit"}, {"value", r.text({"commit"}).value_or("not recorded")}});
    cards.push_back(c);
  };
  for (const auto& [name, r] : folder.runs())
    if (used.count(name)) card(r);
  for (const auto& [name, r] : folder.runs())
    if (!used.count(name)) card(r);
  return cards;
}

std::string today() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace

SiteContent build_site_content(const RunFolder& folder) {
  SiteContent out;
  Builder b(folder, out);
  std::vector<json> parts;
  parts.push_back(part("Part 1: a single-step denoising UNet",
                       "A UNet learns to map a noisy MNIST digit z = x + σε back to x with an L2 loss (σ = 0.5 in training).",
                       {d1(b), d2(b), d3(b), d4(b), d5(b), d6(b)}));
  parts.push_back(part("Part 2: flow matching",
                       "A UNet learns the velocity x₁ − x₀ from noise x₀ to a digit x₁ at every time t, conditioned on t (D7, D8), "
                       "then also on the digit with classifier-free guidance (D9–D11); samples integrate that velocity from noise.",
                       {loss_section(b, "D7", "Training loss of the time-conditioned UNet", "flow_time", flow_time_command, "d7_loss.png", "time-conditioned"),
                        d8(b),
                        loss_section(b, "D9", "Training loss of the class-conditioned UNet", "flow_class", flow_class_command, "d9_loss.png",
                                     "class-conditioned, one-hot dropped with probability p_uncond"),
                        d10(b), d11(b)}));
  parts.push_back(part("Part 3: bells and whistles", "A better time-only model, and flow matching on another data set.", {d12(b), d13(b)}));

  json toc = json::array();
  int missing = 0;
  for (const auto& p : parts)
    for (const auto& s : p["sections"]) {
      toc.push_back({{"id", s["id"]}, {"label", s["label"]}, {"present", s["present"]}});
      missing += !s["present"].get<bool>();
    }
  std::set<std::string> commits, presets, devices;
  for (const auto& [name, r] : folder.runs()) {
    if (!b.used().count(name)) continue;
    if (const auto c = r.text({"commit"})) commits.insert(*c);
    if (const auto p = r.text({"config", "preset"})) presets.insert(*p);
    if (const auto d = r.text({"config", "device"})) devices.insert(*d);
  }
  auto joined = [](const std::set<std::string>& set) {
    std::string s;
    for (const auto& x : set) append(s, ", ", x);
    return s.empty() ? std::string("not recorded") : s;
  };
  const auto unreadable = b.unreadable_runs();
  const auto field_warnings = folder.field_warnings();
  out.warnings.insert(out.warnings.end(), unreadable.begin(), unreadable.end());
  out.warnings.insert(out.warnings.end(), field_warnings.begin(), field_warnings.end());
  json warnings = json::array();
  for (const auto& w : out.warnings) warnings.push_back({{"text", w}});
  out.view = {{"generated", today()},
              {"runs_folder", folder.shown().string()},
              {"presets", joined(presets)},
              {"devices", joined(devices)},
              {"commits", joined(commits)},
              {"toc", toc},
              {"missing_count", missing},
              {"any_missing", missing > 0},
              {"parts", parts},
              {"runs", run_cards(folder, b.used())},
              {"warnings", warnings},
              {"any_warnings", !out.warnings.empty()}};
  return out;
}

}  // namespace report
