#pragma once
// Part 2's runs (and D12's) for one backend, one image shape and one model kind (time-only or class-conditioned):
// training (train_flow) and sampling from a checkpoint (sample). Both are compiled once per backend, shape and kind,
// in the same translation unit, so each model type is instantiated once (flow_instance.cpp.in; flow_impl.hpp and
// sample_impl.hpp); train_flow.cpp and sample.cpp only parse flags and open the data.
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <unetflow/shape.hpp>

#include "support/flags.hpp"

namespace unetflow {
struct ImageSet;
}

namespace examples {

struct Part2Flags {
  TrainFlags train;
  bool classes = false, no_scheduler = false;
  double p_uncond = 0.1, gamma = 5.0, ema = 0;
  std::string ema_stats = "recomputed";   // the batch-norm statistics of the EMA weights (docs/part3.md, D12)
  int statistics_batches = 20;            // the batches they are recomputed over
  std::string time_sampling = "uniform";  // of training: uniform (B.1) or logit-normal
  int sample_steps = 50, per_digit = 4;
  int score_samples = 0;            // > 0: the final model's scores on this many samples (summary.json)
  std::string arch = "assignment";  // D12's candidates: assignment, every-level, residual (flow_impl.hpp)
  bool better = false;              // D12: file names d12_*, and the side-by-side figure with compare_with
  std::string solver = "euler";     // flow/ode.hpp: euler, midpoint, heun, rk4
  std::string classifier;           // empty: the one train_classifier writes for the data set (default_classifier_for)
  std::string compare_with;         // D11: the scheduled run to put side by side (default RUNS/flow_class)
  std::string command_line;
};

struct SampleFlags {
  std::string checkpoint, out = "samples";
  std::vector<int> digits;
  int n = 40, steps = 50, hidden = 0, classes = 0;
  double gamma = 5.0;
  std::uint64_t seed = 0;
  std::string model_name, arch = "assignment", device = "auto";
  std::vector<std::string> class_names;  // from the checkpoint's metadata, for the figure's labels
  std::vector<double> gamma_sweep;  // sample --gamma-sweep: score --count samples at each (runs/guidance_sweep.hpp)
  std::string data = "data/mnist", classifier;  // the sweep's data set (its test set) and classifier
  std::string solver = "euler";
  int threads = 0;
};

// What a checkpoint's model name says (runs/flow_models.hpp builds the models and their names): the architecture, the
// image shape, the width and the kind.
struct FlowModelName {
  std::string arch;
  int channels = 0, side = 0, hidden = 0;
  bool classes = false;
};
inline std::optional<FlowModelName> parse_flow_model_name(const std::string& name) {
  static const std::regex pattern(
      R"((EveryLevel|Residual)?(Class)?TimeUNet<(1,28,28|3,32,32)(,attention=\d{1,2}x\d{1,2})?,D=(\d{1,3})(,classes=10)?>)");
  std::smatch m;
  if (!std::regex_match(name, m, pattern) || m[2].matched != m[6].matched) return std::nullopt;
  FlowModelName n;
  n.arch = m[1] == "EveryLevel" ? "every-level" : m[1] == "Residual" ? "residual" : "assignment";
  n.channels = m[3] == "1,28,28" ? 1 : 3;
  n.side = n.channels == 1 ? 28 : 32;
  n.hidden = std::stoi(m[5]);
  n.classes = m[2].matched;
  return n;
}

// In: the model's input shape (Shape<1, 28, 28>, Shape<3, 32, 32>); train: the training set, already opened.
template <class In, bool Classes, class B>
int train_flow_run(const Part2Flags& f, const ImageSet& train);
template <class In, bool Classes, class B>
int sample_run(const SampleFlags& f);

}  // namespace examples
