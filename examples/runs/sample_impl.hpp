#pragma once
// The sample program's run (flow.hpp): a flow model loaded from a checkpoint, its samples as a figure and .npy
// files; included only by the instance files, beside flow_impl.hpp (the same model types).
#include "runs/flow_impl.hpp"
#include "runs/guidance_sweep.hpp"

namespace examples {

template <class Model, class In, bool Classes, class B>
int sample_with(const SampleFlags& f) {
  auto model = std::make_unique<Model>();
  load_weights(f.checkpoint, {{"model", f.model_name}}, *model);
  const int classes = f.class_names.empty() ? 10 : int(f.class_names.size());  // the checkpoint's, else 10 digits
  if (!f.gamma_sweep.empty()) {
    if constexpr (Classes) return sweep_guidance<In, B>(f, *model, classes);
    throw Error("--gamma-sweep: " + f.checkpoint + " holds a time-only model (" + f.model_name +
                "), which takes no guidance.");
  }
  FlowSampler<Model> sampler;
  sampler.solver = solver_from_name(f.solver);
  Rng rng(f.seed, 7);
  std::vector<float> x;
  std::vector<std::int64_t> labels;
  std::vector<std::string> col_labels;
  int rows, cols;
  if constexpr (Classes) {
    std::vector<int> wanted = f.digits;
    for (const int c : wanted)
      if (c >= classes)
        throw Error("--digits " + std::to_string(c) + ": " + f.checkpoint + " was trained on " +
                    std::to_string(classes) + " classes, 0-" + std::to_string(classes - 1) + ".");
    if (wanted.empty())
      for (int i = 0; i < f.n; ++i) wanted.push_back(i % classes);
    auto v = sampler.sample(*model, wanted, f.gamma, f.steps, rng);
    x = download<B>(v);
    labels.assign(wanted.begin(), wanted.end());
    cols = std::min<int>(10, int(wanted.size()));
    rows = (int(wanted.size()) + cols - 1) / cols;
    for (int c = 0; c < cols; ++c) col_labels.push_back(class_label<In>(f.class_names, wanted[std::size_t(c)]));
  } else {
    if (!f.digits.empty())
      throw Error(f.checkpoint + " holds a time-only model (" + f.model_name + "): it cannot be asked for digits.");
    auto v = sampler.sample(*model, f.n, f.steps, rng);
    x = download<B>(v);
    cols = std::min(10, f.n);
    rows = (f.n + cols - 1) / cols;
  }
  const std::size_t n = x.size() / In::size;
  x.resize(std::size_t(rows * cols) * In::size, 0.0f);  // blank tiles fill the last row of the figure
  RunSummary summary(f.out);
  write_npy(summary.file("samples.npy", "samples [n, " + shape_text<In>() + "]"), x.data(),
            {n, std::size_t(In::C), std::size_t(In::H), std::size_t(In::W)});
  if (Classes)
    write_npy(summary.file("labels.npy", "requested class of each sample, -1 = no class [n]"), labels.data(), {n});
  write_labelled_grid(summary.file("samples.png", "sample grid"),
                      std::to_string(n) + " samples of " + f.model_name + " (" +
                          solver_phrase(f.steps, sampler.solver) + (Classes ? ", CFG gamma " + fmt(f.gamma, 1) : "") +
                          ")",
                      x.data(), rows, cols, In::H, In::W, {}, col_labels, "", "", In::C);
  summary["checkpoint"] = f.checkpoint;
  summary["config"] = {{"model", f.model_name},
                       {"steps", f.steps},
                       {"solver", f.solver},
                       {"model_evaluations", f.steps * evaluations_per_step(sampler.solver)},
                       {"gamma", f.gamma},
                       {"seed", f.seed},
                       {"device", device_description<B>()}};
  summary.write();
  std::printf("%zu samples written to %s\n", n, (fs::path(f.out) / "samples.png").c_str());
  return 0;
}

template <class In, bool Classes, class B>
int sample_run(const SampleFlags& f) {
  return with_flow_model<In, Classes, B>(f.arch, f.hidden, [&]<class Model>(const std::string& name) {
    if (name != f.model_name)  // a name the pattern takes that no model of the programs has
      throw Error(f.checkpoint + " holds a " + f.model_name + "; the programs' model of that kind is " + name + ".");
    return sample_with<Model, In, Classes, B>(f);
  });
}

}  // namespace examples
