// The site's sections of Parts 2 and 3 (D7-D13), and the site's content as a whole.
#include "sections.hpp"

#include "section_builder.hpp"

namespace report {

namespace {

// ---- Part 2 ----

const std::string flow_time_command = "build/examples/train_flow --data data/mnist --preset quick";
const std::string flow_class_command = "build/examples/train_flow --data data/mnist --classes --preset quick";
const std::string flow_noscheduler_command =
    "build/examples/train_flow --data data/mnist --classes --no-scheduler --preset quick";

json loss_section(Builder& b, const std::string& id, const std::string& title, const std::string& run,
                  const std::string& command, const std::string& file, const std::string& what) {
  auto s = b.section(id, title, {run}, {command});
  if (const auto* r = b.run(run)) {
    b.figure(s, *r, file,
             "Training loss of every step and its moving average (" + what + "): " + model_phrase(*r) + ", batch " +
                 or_dash(r->number({"config", "batch"}), count) + ", Adam lr " +
                 or_dash(r->number({"config", "lr"}), plain) + ", " +
                 r->text({"config", "schedule"}).value_or("schedule —") + "; dashed lines mark the epochs.");
    s["tables"].push_back(training_table(*r));
  }
  return s;
}

json scoring_note(const Builder& b) {
  std::string accuracy;
  if (const auto* c = b.run("classifier"))
    if (const auto a = c->number({"test_accuracy"})) accuracy = ", " + percent(*a) + " accurate on the test set";
  return {
      {"p",
       "Scores: a small classifier trained on the same data set (runs/classifier" + accuracy +
           ") classifies the samples. "
           "\"As asked\" is the share classified as the class requested; \"confident\" the share it assigns to some "
           "class with probability ≥ 0.9; \"class spread\" the entropy of the predicted classes over log 10 (1: all "
           "classes equally often); the Fréchet distance compares the classifier's features of the samples and of the "
           "test "
           "set (lower is better; 40 samples carry a large small-sample bias, compare it between runs of equal n)."}};
}

json d8(Builder& b) {
  auto s = b.section("D8", "Samples of the time-conditioned model", {"flow_time"}, {flow_time_command});
  if (const auto* r = b.run("flow_time")) {
    sample_figures(b, s, *r, files::epoch_prefix(files::d8_samples), "40 samples of the time-conditioned UNet");
    s["tables"].push_back(scores_table(*r, false));
    s["notes"].push_back(scoring_note(b));
  }
  return s;
}

json d10(Builder& b) {
  auto s =
      b.section("D10", "Class-conditioned samples with classifier-free guidance", {"flow_class"}, {flow_class_command});
  if (const auto* r = b.run("flow_class")) {
    const auto gamma = r->number({"config", "cfg_gamma"});
    sample_figures(
        b, s, *r, files::epoch_prefix(files::d10_samples),
        "Four samples of each digit 0–9 (rows), CFG γ = " + or_dash(gamma, [](double x) { return fixed(x, 1); }) + ",");
    s["tables"].push_back(scores_table(*r, true));
    s["notes"].push_back(scoring_note(b));
  }
  return s;
}

json d11(Builder& b) {
  auto s =
      b.section("D11", "Without the learning-rate scheduler", {"flow_class_noscheduler"}, {flow_noscheduler_command});
  const auto* r = b.run("flow_class_noscheduler");
  if (!r) return s;
  const auto epochs = r->number({"config", "epochs"});
  b.figure(s, *r, files::d11_comparison + ".png",
           "After " + or_dash(epochs, [](double e) { return "epoch " + count(e); }) +
               ": the scheduled run (runs/flow_class, left columns) beside this run without a scheduler (right), from "
               "the same "
               "starting noise, four samples of each digit.");
  b.figure(s, *r, files::d11_loss + ".png",
           "Training loss without a scheduler: " + model_phrase(*r) + ", constant lr " +
               or_dash(r->number({"config", "lr"}), plain) + ".");
  if (!r->lists(files::d11_comparison + ".png"))
    sample_figures(b, s, *r, files::epoch_prefix(files::d11_samples), "Four samples of each digit 0–9 (rows)");
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
  s["answer"].push_back(
      {{"p",
        "ExponentialLR shrinks Adam's step tenfold over the run: large steps early to make progress, small steps "
        "late so that the weights settle instead of jittering around a minimum with the noise of each batch. "
        "Without it, two things take over that job: a constant learning rate of " +
            or_dash(lr, plain) +
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
    s["answer"].push_back(
        {{"p", "Measured on the same starting noise after the last epoch: with the scheduler " + percent(*with_acc) +
                   " of the samples are the digit asked for (Fréchet distance " + fixed(*with_fd, 1) +
                   "), without it " + percent(*without_acc) + " (" + fixed(*without_fd, 1) + ")."}});
  return s;
}

// ---- Part 3 ----

json d13(Builder& b) {
  const std::string fashion = "/usr/share/datasets/fashion-mnist";
  auto s =
      b.section("D13", "Another data set: Fashion-MNIST", {"fashion_time", "fashion_class"},
                {"build/examples/train_flow --data " + fashion + " --name fashion_time --preset quick",
                 "build/examples/train_flow --data " + fashion + " --classes --name fashion_class --preset quick"});
  if (const auto* r = b.run("fashion_time")) {
    const auto epochs = listed_epochs(*r, files::epoch_prefix(files::d8_samples), ".png");
    if (!epochs.empty())
      b.figure(s, *r, files::epoch_prefix(files::d8_samples) + std::to_string(epochs.back()) + ".png",
               "Time-conditioned samples after " + of_epochs(*r, epochs.back()) + " (" + flow_sampling_phrase(*r) +
                   data_phrase(*r) + ").");
    s["tables"].push_back(scores_table(*r, false));
  }
  if (const auto* r = b.run("fashion_class")) {
    const auto epochs = listed_epochs(*r, files::epoch_prefix(files::d10_samples), ".png");
    if (!epochs.empty())
      b.figure(s, *r, files::epoch_prefix(files::d10_samples) + std::to_string(epochs.back()) + ".png",
               "Class-conditioned samples after " + of_epochs(*r, epochs.back()) +
                   ", four of each class (rows), CFG γ = " +
                   or_dash(r->number({"config", "cfg_gamma"}), [](double x) { return fixed(x, 1); }) + " (" +
                   flow_sampling_phrase(*r) + data_phrase(*r) + ").");
    b.figure(s, *r, files::d9_loss + ".png",
             "Training loss of the class-conditioned Fashion-MNIST model: " + model_phrase(*r) + ".");
    s["tables"].push_back(scores_table(*r, true));
  }
  if (const auto* c = b.run("classifier_fashion-mnist"))
    if (const auto accuracy = c->number({"test_accuracy"}))
      s["notes"].push_back({{"p", "Scored by a classifier of Fashion-MNIST (runs/classifier_fashion-mnist), " +
                                      percent(*accuracy) + " accurate on its test set."}});
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
    if (const auto accuracy = r.number({"test_accuracy"}))
      c["rows"].push_back({{"key", "test accuracy"}, {"value", percent(*accuracy)}});
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
  parts.push_back(
      part("Part 1: a single-step denoising UNet",
           "A UNet learns to map a noisy MNIST digit z = x + σε back to x with an L2 loss (σ = 0.5 in training).",
           {d1(b), d2(b), d3(b), d4(b), d5(b), d6(b)}));
  parts.push_back(
      part("Part 2: flow matching",
           "A UNet learns the velocity x₁ − x₀ from noise x₀ to a digit x₁ at every time t, conditioned on t (D7, D8), "
           "then also on the digit with classifier-free guidance (D9–D11); samples integrate that velocity from noise.",
           {loss_section(b, "D7", "Training loss of the time-conditioned UNet", "flow_time", flow_time_command,
                         files::d7_loss + ".png", "time-conditioned"),
            d8(b),
            loss_section(b, "D9", "Training loss of the class-conditioned UNet", "flow_class", flow_class_command,
                         files::d9_loss + ".png", "class-conditioned, one-hot dropped with probability p_uncond"),
            d10(b), d11(b)}));
  parts.push_back(part("Part 3: bells and whistles",
                       "A better time-only model, flow matching on another data set, what guidance trades, and a "
                       "real colour data set.",
                       {d12(b), d13(b), guidance(b), emoji(b)}));
  parts.push_back(part("PyTorch's examples, ported",
                       "Programs PyTorch users learn from (pytorch/examples), written with unetflow "
                       "(examples/pytorch/) and run beside the originals on the same machine.",
                       {p1(b), p2(b), p3(b)}));

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
