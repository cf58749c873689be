#pragma once
// Scoring flow models on many samples (train_flow --score-samples; D12's 500): the final model of this run, and for
// D12 (--better) Part 2's time-only model too, from its checkpoint at the same epoch, sampled with Part 2's own solver
// from the same starting noise and scored by the same classifier, so that D12's comparison needs nothing more of
// Part 2's run than its checkpoint. Included by flow_impl.hpp.
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>
#include <unetflow/io/safetensors.hpp>

#include "runs/flow.hpp"
#include "runs/flow_models.hpp"
#include "support/programs.hpp"

namespace examples {

// The scores of n samples as JSON, said on stderr after `what`. Samples that cannot be scored (a diverged model) are
// said (`failed`) and recorded as {"error": ...}: the run goes on.
template <class Scorer>
nlohmann::json scores_or_error(Scorer& scorer, const float* x, int n, const std::int64_t* labels,
                               const std::string& what, const char* failed) {
  try {
    const auto scores = scorer.score(x, n, labels);
    std::fprintf(stderr, "%s: %s\n", what.c_str(), scores.line().c_str());
    return scores.json();
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s: %s\n", what.c_str(), failed, e.what());
    return {{"error", e.what()}};
  }
}

// n samples of `model` (class-conditioned: the classes 0, 1, ... in turn, guidance gamma) and the class each was
// asked for, in batches of 250 that bound the sampler's memory.
template <bool Classes, class Model>
std::pair<std::vector<float>, std::vector<std::int64_t>> draw_samples(Model& model, int n, int classes, double gamma,
                                                                      int steps, Solver solver, Rng& noise) {
  FlowSampler<Model> sampler;
  sampler.solver = solver;
  std::vector<float> x;
  std::vector<std::int64_t> labels;
  for (int begin = 0; begin < n; begin += 250) {
    const int m = std::min(250, n - begin);
    std::vector<float> part;
    if constexpr (Classes) {
      std::vector<int> wanted;
      for (int i = begin; i < begin + m; ++i) wanted.push_back(i % classes);
      part = download<typename Model::backend>(sampler.sample(model, wanted, gamma, steps, noise));
      labels.insert(labels.end(), wanted.begin(), wanted.end());
    } else {
      part = download<typename Model::backend>(sampler.sample(model, m, steps, noise));
    }
    x.insert(x.end(), part.begin(), part.end());
  }
  return {std::move(x), std::move(labels)};
}

// Scores f.score_samples samples of `model` as summary[key], with the sampling time; `what` names it on stderr.
template <bool Classes, class Model, class Scorer>
void score_samples_of(const Part2Flags& f, int classes, Model& model, int steps, Solver solver, Scorer& scorer,
                      RunSummary& summary, const std::string& key, const std::string& what) {
  Rng noise(f.train.seed, 8);
  const auto t0 = std::chrono::steady_clock::now();
  const auto [x, labels] = draw_samples<Classes>(model, f.score_samples, classes, f.gamma, steps, solver, noise);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  char line[160];
  std::snprintf(line, sizeof line, "%s, %d samples (%.1f s)", what.c_str(), f.score_samples, seconds);
  auto j = scores_or_error(scorer, x.data(), f.score_samples, Classes ? labels.data() : nullptr, line,
                           "they could not be scored");
  j["sampling_seconds"] = seconds;
  summary[key] = j;
}

// D12: Part 2's time-only model of f.compare_with at this run's last epoch, scored as this run's final model is
// (summary["reference_final_scores"], with its model, checkpoint, solver and steps). Skipped with a note saying why
// when that run has no checkpoint of the epoch or holds another kind of model.
template <class In, class B, class Scorer>
void score_part2_reference(const Part2Flags& f, Scorer& scorer, RunSummary& summary) {
  const fs::path run = f.compare_with;
  const auto checkpoint = run / ("model-epoch" + std::to_string(f.train.epochs) + ".safetensors");
  auto skip = [&](const std::string& why) {
    std::fprintf(stderr, "note: Part 2's model is not scored beside this one: %s\n", why.c_str());
  };
  if (!fs::exists(checkpoint))
    return skip("no " + checkpoint.string() + " (run train_flow with the same --epochs first)");
  const auto meta = safetensors::read_metadata(checkpoint);
  const auto named = meta.find("model");
  const auto kind = named == meta.end() ? std::nullopt : parse_flow_model_name(named->second);
  if (!kind || kind->classes || kind->channels != In::C || kind->side != In::H)
    return skip(checkpoint.string() + " holds " + (named == meta.end() ? "no named model" : named->second) +
                ", not a time-only model of " + shape_text<In>() + " images");
  // Part 2's sampling as its run recorded it (config.solver, config.sample_steps), checked as any outside value.
  std::string solver = "euler";
  int steps = 50;
  if (std::ifstream in(run / "summary.json"); in) {
    const auto j = nlohmann::json::parse(in, nullptr, false);
    const auto* config = j.is_object() && j.contains("config") ? &j["config"] : nullptr;
    if (config && config->contains("solver") && (*config)["solver"].is_string()) solver = (*config)["solver"];
    if (config && config->contains("sample_steps") && (*config)["sample_steps"].is_number_integer())
      steps = (*config)["sample_steps"];
  }
  if (steps < 1 || steps > 10000) return skip((run / "summary.json").string() + " records sample_steps out of 1-10000");
  const Solver method = solver_from_name(solver);
  with_flow_model<In, false, B>(kind->arch, kind->hidden, [&]<class Model>(const std::string& name) {
    if (name != named->second) throw Error(checkpoint.string() + " holds a " + named->second + ", not a " + name + ".");
    auto model = std::make_unique<Model>();
    load_weights(checkpoint, {{"model", name}}, *model);
    score_samples_of<false>(f, 0, *model, steps, method, scorer, summary, "reference_final_scores",
                            "Part 2's model (" + checkpoint.string() + ")");
    summary["reference_final_scores"]["model"] = name;
    summary["reference_final_scores"]["checkpoint"] = checkpoint.string();
    summary["reference_final_scores"]["solver"] = solver;
    summary["reference_final_scores"]["sample_steps"] = steps;
    return 0;
  });
}

}  // namespace examples
