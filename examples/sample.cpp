// Samples from any flow-matching checkpoint (model-epoch<k>.safetensors or a run's checkpoint.safetensors):
//   sample runs/flow_class/model-epoch10.safetensors --digits 3,3,7 --gamma 5 --steps 50 --out my_samples
// writes my_samples/samples.png, samples.npy [n, 1, 28, 28] and, class-conditioned, labels.npy [n].
#include <regex>

#include "common/cli.hpp"
#include "common/images.hpp"
#include "common/run_summary.hpp"

namespace examples {

struct SampleFlags {
  std::string checkpoint, out = "samples";
  std::vector<int> digits;
  int n = 40, steps = 50, hidden = 0, classes = 0;
  double gamma = 5.0;
  std::uint64_t seed = 0;
  std::string model_name, device = "auto";
};

template <int D, bool Classes, class B>
int sample_with(const SampleFlags& f) {
  using Model = std::conditional_t<Classes, ClassTimeUNet<1, 28, 28, D, 10, B>, TimeUNet<1, 28, 28, D, B>>;
  auto model = std::make_unique<Model>();
  load_weights(f.checkpoint, {{"model", f.model_name}}, *model);
  FlowSampler<Model> sampler;
  Rng rng(f.seed, 7);
  std::vector<float> x;
  std::vector<std::int64_t> labels;
  std::vector<std::string> col_labels;
  int rows, cols;
  if constexpr (Classes) {
    std::vector<int> wanted = f.digits;
    if (wanted.empty())
      for (int i = 0; i < f.n; ++i) wanted.push_back(i % 10);
    auto v = sampler.sample(*model, wanted, f.gamma, f.steps, rng);
    x = download<B>(v);
    labels.assign(wanted.begin(), wanted.end());
    cols = std::min<int>(10, int(wanted.size()));
    rows = (int(wanted.size()) + cols - 1) / cols;
    for (int c = 0; c < cols; ++c) col_labels.push_back(wanted[std::size_t(c)] < 0 ? "no class" : "digit " + std::to_string(wanted[std::size_t(c)]));
  } else {
    if (!f.digits.empty()) throw Error(f.checkpoint + " holds a time-only model (" + f.model_name + "): it cannot be asked for digits.");
    auto v = sampler.sample(*model, f.n, f.steps, rng);
    x = download<B>(v);
    cols = std::min(10, f.n);
    rows = (f.n + cols - 1) / cols;
  }
  const std::size_t n = x.size() / 784;
  x.resize(std::size_t(rows * cols) * 784, 0.0f);  // blank tiles fill the last row of the figure
  RunSummary summary(f.out);
  write_npy(summary.file("samples.npy", "samples [n, 1, 28, 28]"), x.data(), {n, 1, 28, 28});
  if (Classes) write_npy(summary.file("labels.npy", "requested digit of each sample, -1 = no class [n]"), labels.data(), {n});
  write_labelled_grid(summary.file("samples.png", "sample grid"),
                      std::to_string(n) + " samples of " + f.model_name + " (" + std::to_string(f.steps) + " Euler steps" +
                          (Classes ? ", CFG gamma " + fmt(f.gamma, 1) : "") + ")",
                      x.data(), rows, cols, 28, 28, {}, col_labels);
  summary["checkpoint"] = f.checkpoint;
  summary["config"] = {{"model", f.model_name}, {"steps", f.steps}, {"gamma", f.gamma}, {"seed", f.seed},
                       {"device", device_description<B>()}};
  summary.write();
  std::printf("%zu samples written to %s\n", n, (fs::path(f.out) / "samples.png").c_str());
  return 0;
}

}  // namespace examples

int main(int argc, char** argv) {
  using namespace examples;
  CLI::App app{"Draw samples from a trained flow-matching checkpoint (time- or class-conditioned UNet)"};
  SampleFlags f;
  app.add_option("checkpoint", f.checkpoint, "a model-epoch<k>.safetensors or checkpoint.safetensors")->required()->check(CLI::ExistingFile);
  app.add_option("--out", f.out, "output directory")->capture_default_str();
  app.add_option("-n,--count", f.n, "number of samples (without --digits)")->check(CLI::Range(1, 10000))->capture_default_str();
  app.add_option("--digits", f.digits, "digits to draw, one sample each (class-conditioned; -1 = no class)")
      ->delimiter(',')
      ->check(CLI::Range(-1, 9));
  app.add_option("--gamma", f.gamma, "classifier-free guidance scale")->capture_default_str();
  app.add_option("--steps", f.steps, "Euler steps T")->check(CLI::Range(1, 10000))->capture_default_str();
  app.add_option("--seed", f.seed, "noise seed")->capture_default_str();
  add_device_flag(app, f.device);
  CLI11_PARSE(app, argc, argv);
  return guarded([&] {
    const auto meta = safetensors::read(f.checkpoint).metadata;
    const auto it = meta.find("model");
    if (it == meta.end()) throw Error(f.checkpoint + " names no model in its metadata: it was not written by unetflow's trainer.");
    f.model_name = it->second;
    std::smatch m;
    if (!std::regex_match(f.model_name, m, std::regex(R"((Class)?TimeUNet<1,28,28,D=(\d+)(,classes=10)?>)")))
      throw Error(f.checkpoint + " holds a " + f.model_name + ", not a flow-matching model (TimeUNet or ClassTimeUNet on 1x28x28).");
    const bool classes = m[1].matched;
    return with_backend(f.device, [&]<class B>() {
      return with_hidden(std::stoi(m[2]), [&]<int D>() { return classes ? sample_with<D, true, B>(f) : sample_with<D, false, B>(f); });
    });
  });
}
