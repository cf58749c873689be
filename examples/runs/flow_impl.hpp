#pragma once
// Part 2's runs (flow.hpp), included only by the instance files.
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <unetflow/eval/scorer.hpp>
#include <vector>

#include "runs/classifier.hpp"
#include "runs/flow.hpp"
#include "runs/flow_models.hpp"
#include "runs/flow_scoring.hpp"
#include "support/deliverable_files.hpp"
#include "support/images.hpp"
#include "support/programs.hpp"

// Compiled once, in runs/classifier.cpp.
namespace unetflow {
extern template class Scorer<Shape<1, 28, 28>, cpu>;
extern template class Scorer<Shape<3, 32, 32>, cpu>;
#if defined(UNETFLOW_HAS_CUDA)
extern template class Scorer<Shape<1, 28, 28>, cuda>;
extern template class Scorer<Shape<3, 32, 32>, cuda>;
#endif
}  // namespace unetflow

namespace examples {

// The samples another run wrote (npy), to put beside this run's `ours`; nothing, with a note saying why, when that
// run has no such file or its samples do not match ours in number.
inline std::optional<std::vector<float>> samples_beside(const fs::path& npy, const std::vector<float>& ours,
                                                        const std::string& figure, const std::string& how_to_make) {
  if (!fs::exists(npy)) {
    std::fprintf(stderr, "note: no %s (%s), so no %s\n", npy.c_str(), how_to_make.c_str(), figure.c_str());
    return std::nullopt;
  }
  auto theirs = read_npy<float>(npy);
  if (theirs.size() != ours.size()) {
    std::fprintf(stderr, "note: %s holds %zu values, this run's samples %zu, so no %s\n", npy.c_str(), theirs.size(),
                 ours.size(), figure.c_str());
    return std::nullopt;
  }
  return theirs;
}

// D11: the final samples of this run (no scheduler) beside those of the scheduled run in f.compare_with, drawn
// from the same starting noise (same seed), with both runs' scores. Skipped with a note when that run is absent.
template <class In, class Scorer>
void write_d11_comparison(const Part2Flags& f, const ImageSet& set, RunSummary& summary, const std::vector<float>& ours,
                          Scorer* scorer) {
  const std::string tag = files::epoch_tag(f.train.epochs);
  const auto found = samples_beside(fs::path(f.compare_with) / (files::d10_samples + tag + ".npy"), ours,
                                    "side-by-side D11 figure", "run train_flow --classes with the same settings first");
  if (!found) return;
  const auto& theirs = *found;
  const int k = f.per_digit;
  constexpr std::ptrdiff_t image = In::size;
  const int classes = int(std::ptrdiff_t(ours.size()) / image) / k;
  std::vector<float> grid;
  for (int digit = 0; digit < classes; ++digit)
    for (const auto* set : {&theirs, &ours})
      grid.insert(grid.end(), set->begin() + std::ptrdiff_t(digit) * k * image,
                  set->begin() + std::ptrdiff_t(digit + 1) * k * image);
  std::vector<std::string> rows, cols;
  for (int digit = 0; digit < classes; ++digit) rows.push_back(class_label<In>(set.class_names, digit));
  for (const char* side : {"schedule ", "none "})
    for (int i = 0; i < k; ++i) cols.push_back(side + std::to_string(i + 1));
  write_labelled_grid(
      summary.file(files::d11_comparison + ".png", "epoch " + std::to_string(f.train.epochs) +
                                                       ": with ExponentialLR (" + f.compare_with +
                                                       ", left) and without (right), same starting noise"),
      "Epoch " + std::to_string(f.train.epochs) + ": ExponentialLR (left) vs constant lr + EMA (right), same noise",
      grid.data(), classes, 2 * k, In::H, In::W, rows, cols, "", "", In::C);
  if (!scorer) return;
  std::vector<std::int64_t> labels;
  for (int digit = 0; digit < classes; ++digit)
    for (int i = 0; i < k; ++i) labels.push_back(digit);
  const auto with = scorer->score(theirs.data(), classes * k, labels.data());
  const auto without = scorer->score(ours.data(), classes * k, labels.data());
  summary["comparison"] = {{"with_scheduler", with.json()}, {"without_scheduler", without.json()}};
  std::fprintf(stderr, "D11 at %s: with ExponentialLR %s\nD11 at %s: without (constant lr + EMA) %s\n", tag.c_str(),
               with.line().c_str(), tag.c_str(), without.line().c_str());
}

// D12: this run's samples beside those of the Part 2 run in f.compare_with at the same epoch, drawn from the same
// starting noise (same seed and count). Skipped with a note when that run has no samples of this epoch.
template <class In>
void write_d12_comparison(const Part2Flags& f, RunSummary& summary, const std::string& tag,
                          const std::vector<float>& ours, const std::string& model_name) {
  const auto theirs =
      samples_beside(fs::path(f.compare_with) / (files::d8_samples + tag + ".npy"), ours,
                     "side-by-side D12 figure for " + tag, "run train_flow with the same settings first");
  if (!theirs) return;
  std::vector<float> grid(*theirs);
  grid.insert(grid.end(), ours.begin(), ours.end());
  const int rows = int(grid.size() / In::size) / 10;
  std::vector<std::string> row_labels;
  for (int r = 0; r < rows; ++r) row_labels.push_back(r < rows / 2 ? "Part 2" : "D12");
  write_labelled_grid(
      summary.file(files::d12_comparison + tag + ".png", tag + ": Part 2's time-only model (" + f.compare_with +
                                                             ", top) and this one (bottom), same starting noise"),
      "Epoch " + tag.substr(5) + ": Part 2's TimeUNet (top) vs " + model_name + " (bottom), same noise", grid.data(),
      rows, 10, In::H, In::W, row_labels, {}, "", "", In::C);
}

// The classes of a set: its named classes, else one past its largest label.
inline int class_count(const ImageSet& set) {
  if (!set.class_names.empty()) return int(set.class_names.size());
  int count = 0;
  for (const auto label : set.labels) count = std::max(count, int(label) + 1);
  return count;
}

template <class Model, class In, bool Classes, class B>
int run_flow(const Part2Flags& f, const ImageSet& train, const std::string& model_name) {
  const TrainFlags& flags = f.train;
  if constexpr (Classes) require_classes(train, 10, "the class-conditioned programs");
  const int classes = class_count(train);

  auto model = std::make_unique<Model>();
  Rng init(flags.seed, 2);
  reset_parameters(*model, init);
  FlowMatchingTask<Model> task(Classes ? f.p_uncond : 0.0);
  task.time_sampling.logit_normal = f.time_sampling == "logit-normal";
  const double lr_gamma = f.no_scheduler ? 1.0 : std::pow(0.1, 1.0 / flags.epochs);
  auto options = train_options(flags, lr_gamma);
  options.ema_decay = f.ema;
  options.ema_statistics = f.ema_stats == "averaged"     ? EmaStatistics::averaged
                           : f.ema_stats == "recomputed" ? EmaStatistics::recomputed
                                                         : EmaStatistics::running;
  options.statistics_batches = f.statistics_batches;
  Trainer<Model, FlowMatchingTask<Model>, ProcessComm> trainer(*model, task, train, options,
                                                               {{"model", model_name},
                                                                {"task", "flow_matching"},
                                                                {"data", train.source},
                                                                {"class_names", joined(train.class_names)}},
                                                               process_comm_for<B>(flags));

  // File names follow the deliverables: D7/D8 time-conditioned, D9/D10 class-conditioned, D11 without schedule,
  // D12 a better time-conditioned model.
  const auto names = files::flow_files(Classes, f.no_scheduler, f.better);
  RunSummary summary(flags.run_dir(), trainer.writes_outputs());
  summary["deliverables"] = f.better ? "D12" : !Classes ? "D7, D8" : f.no_scheduler ? "D11" : "D9, D10";
  summary["config"] = {{"model", model_name},
                       {"parameters", parameter_count(*model)},
                       {"preset", flags.preset},
                       {"data", train.source},
                       {"images", shape_text<In>()},
                       {"epochs", flags.epochs},
                       {"batch", flags.batch},
                       {"lr", flags.lr},
                       {"schedule", f.no_scheduler ? "none" : "ExponentialLR gamma " + fmt(lr_gamma, 5) + " per epoch"},
                       {"ema_decay", f.ema},
                       {"ema_statistics", f.ema > 0 ? f.ema_stats : "none"},
                       {"statistics_batches", f.statistics_batches},
                       {"time_sampling", f.time_sampling},
                       {"p_uncond", Classes ? f.p_uncond : 0.0},
                       {"cfg_gamma", f.gamma},
                       {"sample_steps", f.sample_steps},
                       {"solver", f.solver},
                       {"steps_per_epoch", trainer.steps_per_epoch()},
                       {"seed", flags.seed},
                       {"threads", omp_get_max_threads()},
                       {"device", device_description<B>()},
                       {"arch", f.arch},
                       {"horizontal_flip", flags.flip}};

  const std::set<int> sample_epochs{1, std::max(1, flags.epochs / 2), flags.epochs};
  std::unique_ptr<Scorer<In, B>> scorer;
  if (fs::exists(f.classifier))
    scorer = std::make_unique<Scorer<In, B>>(f.classifier, open_data(flags.data, Split::test));
  else
    std::fprintf(stderr,
                 "note: no classifier at %s, so samples are not scored (train one with train_classifier --data %s)\n",
                 f.classifier.c_str(), flags.data.c_str());
  auto evaluation = std::make_unique<Model>();
  FlowSampler<Model> sampler;
  sampler.solver = solver_from_name(f.solver);
  std::vector<float> last_grid;  // the last sampled epoch's samples (D11 comparison)
  auto on_epoch_end = [&](int epoch) {
    if (!sample_epochs.count(epoch)) return;
    trainer.evaluation_weights(*evaluation);
    Rng noise(flags.seed, 6);  // the same starting noise at every epoch, so the figures compare
    const std::string tag = files::epoch_tag(epoch);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<float> grid;
    std::vector<std::int64_t> labels;
    int rows, cols;
    std::vector<std::string> row_labels, col_labels;
    if constexpr (Classes) {
      std::vector<int> wanted;
      for (int digit = 0; digit < classes; ++digit)
        for (int k = 0; k < f.per_digit; ++k) wanted.push_back(digit);
      auto x = sampler.sample(*evaluation, wanted, f.gamma, f.sample_steps, noise);
      grid = download<B>(x);
      labels.assign(wanted.begin(), wanted.end());
      rows = classes;
      cols = f.per_digit;
      for (int digit = 0; digit < classes; ++digit) row_labels.push_back(class_label<In>(train.class_names, digit));
      for (int k = 0; k < cols; ++k) col_labels.push_back("sample " + std::to_string(k + 1));
    } else {
      rows = 4;
      cols = 10;
      auto x = sampler.sample(*evaluation, rows * cols, f.sample_steps, noise);
      grid = download<B>(x);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::size_t n = grid.size() / In::size;
    write_npy(summary.file(names.samples + tag + ".npy", "samples after " + tag + ": [n, " + shape_text<In>() + "]"),
              grid.data(), {n, std::size_t(In::C), std::size_t(In::H), std::size_t(In::W)});
    if constexpr (Classes)
      write_npy(summary.file(names.labels + tag + ".npy", "the class each sample was asked for: [n] int64"),
                labels.data(), {n});
    std::string title = (Classes ? "Class-conditioned flow matching, CFG gamma " + fmt(f.gamma, 1)
                                 : std::string("Time-conditioned flow matching")) +
                        ", epoch " + std::to_string(epoch) + " (" + solver_phrase(f.sample_steps, sampler.solver) +
                        (f.ema > 0 ? ", EMA weights" : "") + (f.no_scheduler ? ", no LR schedule" : "") + ")";
    write_labelled_grid(summary.file(names.samples + tag + ".png", "sample grid after " + tag), title, grid.data(),
                        rows, cols, In::H, In::W, row_labels, col_labels, "", "", In::C);
    summary["sampling"][tag] = {{"samples", n}, {"seconds", seconds}};
    last_grid = grid;
    if (f.better) write_d12_comparison<In>(f, summary, tag, grid, model_name);
    if (scorer)
      summary["scores"][tag] = scores_or_error(*scorer, grid.data(), int(n), Classes ? labels.data() : nullptr,
                                               "epoch " + std::to_string(epoch), "the samples could not be scored");
    summary.write();
    std::fprintf(stderr, "epoch %d: %zu samples in %.1f s -> %s\n", epoch, n, seconds,
                 (flags.run_dir() / (names.samples + tag + ".png")).c_str());
  };

  const auto outcome = trainer.run(on_epoch_end);
  if (!trainer.writes_outputs()) return outcome == decltype(trainer)::Outcome::interrupted ? 130 : 0;
  record_training(summary, trainer, flags, names.loss,
                  (Classes ? "Class-conditioned" : "Time-conditioned") +
                      std::string(" flow matching: training loss (") + model_name +
                      (f.no_scheduler ? ", constant lr" : ", ExponentialLR") + ")");
  summary["training"]["final_lr"] = trainer.optimizer().options.lr;
  if constexpr (Classes)
    if (f.no_scheduler && outcome == decltype(trainer)::Outcome::finished)
      write_d11_comparison<In>(f, train, summary, last_grid, scorer.get());
  if (f.score_samples > 0 && scorer && outcome == decltype(trainer)::Outcome::finished) {
    trainer.evaluation_weights(*evaluation);
    score_samples_of<Classes>(f, classes, *evaluation, f.sample_steps, sampler.solver, *scorer, summary, "final_scores",
                              "final model");
    if constexpr (!Classes)
      if (f.better) score_part2_reference<In, B>(f, *scorer, summary);
  }
  summary.write();
  if (outcome == decltype(trainer)::Outcome::interrupted) return resume_hint(trainer, flags, f.command_line);
  std::printf("outputs in %s (summary.json lists them)\n", flags.run_dir().c_str());
  return 0;
}

template <class In, bool Classes, class B>
int train_flow_run(const Part2Flags& f, const ImageSet& train) {
  return with_flow_model<In, Classes, B>(f.arch, f.train.hidden, [&]<class Model>(const std::string& name) {
    return run_flow<Model, In, Classes, B>(f, train, name);
  });
}
}  // namespace examples
