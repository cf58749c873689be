#pragma once
// Part 2's runs (and D12's) for one backend, one image shape and one model kind (time-only or class-conditioned):
// training (train_flow) and sampling from a checkpoint (sample). Both are compiled once per backend, shape and kind,
// in the same translation unit, so each model type is instantiated once (flow_instance.cpp.in; flow_impl.hpp and
// sample_impl.hpp); train_flow.cpp and sample.cpp only parse flags and open the data.
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
  std::string model_name, device = "auto";
  std::vector<std::string> class_names;  // from the checkpoint's metadata, for the figure's labels
  std::string solver = "euler";
  int threads = 0;
};

// In: the model's input shape (Shape<1, 28, 28>, Shape<3, 32, 32>); train: the training set, already opened.
template <class In, bool Classes, class B>
int train_flow_run(const Part2Flags& f, const ImageSet& train);
template <class In, bool Classes, class B>
int sample_run(const SampleFlags& f, int hidden);

}  // namespace examples
