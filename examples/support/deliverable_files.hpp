#pragma once
// The names of the files each deliverable's run writes and the website reads (report/sections.cpp): one list, so
// that a renamed file cannot leave a hole in the website. Names are without their extension: "<name>.png" is the
// figure, ".npy" its numbers, ".csv" a loss log. A name ending in "_" takes an epoch: at(d8_samples, 5) is
// "d8_samples_epoch5".
#include <string>

namespace examples::files {

inline const std::string d1_noising = "d1_noising";  // noising_figure
inline const std::string d2_loss = "d2_loss";        // train_denoiser
inline const std::string d3_results = "d3_results_";
inline const std::string d4_out_of_distribution = "d4_out_of_distribution";
inline const std::string d5_loss = "d5_loss";  // train_pure_noise
inline const std::string d5_samples = "d5_samples_";
inline const std::string d5_centroid = "d5_centroid";
inline const std::string d7_loss = "d7_loss";  // train_flow
inline const std::string d8_samples = "d8_samples_";
inline const std::string d9_loss = "d9_loss";  // train_flow --classes
inline const std::string d10_samples = "d10_samples_", d10_labels = "d10_labels_";
inline const std::string d11_loss = "d11_loss";  // train_flow --classes --no-scheduler
inline const std::string d11_samples = "d11_samples_", d11_labels = "d11_labels_";
inline const std::string d11_comparison = "d11_comparison";
inline const std::string d12_loss = "d12_loss";  // train_flow --better
inline const std::string d12_samples = "d12_samples_";
inline const std::string d12_comparison = "d12_comparison_";

// "epoch5": the tag of a file written after an epoch.
inline std::string epoch_tag(int epoch) { return "epoch" + std::to_string(epoch); }
inline std::string at(const std::string& name, int epoch) { return name + epoch_tag(epoch); }
// What every epoch's file of `name` begins with ("d8_samples_epoch"), to list them.
inline std::string epoch_prefix(const std::string& name) { return name + "epoch"; }

// The files of one kind of flow run (train_flow's variants: D7/D8, D9/D10, D11, D12).
struct FlowFiles {
  std::string loss, samples, labels;
};
inline FlowFiles flow_files(bool classes, bool no_scheduler, bool better) {
  if (better) return {d12_loss, d12_samples, ""};
  if (!classes) return {d7_loss, d8_samples, ""};
  if (no_scheduler) return {d11_loss, d11_samples, d11_labels};
  return {d9_loss, d10_samples, d10_labels};
}

}  // namespace examples::files
