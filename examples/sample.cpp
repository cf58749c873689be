// Samples from any flow-matching checkpoint (model-epoch<k>.safetensors or a run's checkpoint.safetensors):
//   sample runs/flow_class/model-epoch10.safetensors --digits 3,3,7 --gamma 5 --steps 50 --out my_samples
// writes my_samples/samples.png, samples.npy [n, C, H, W] and, class-conditioned, labels.npy [n].
#include <regex>

#include <sstream>

#include "support/cli.hpp"
#include "support/flags.hpp"
#include "runs/flow.hpp"
#include <unetflow/io/safetensors.hpp>

int main(int argc, char** argv) {
  examples::use_program_wait_policy(argv);
  using namespace examples;
  CLI::App app{"Draw samples from a trained flow-matching checkpoint (time- or class-conditioned UNet)"};
  SampleFlags f;
  app.add_option("checkpoint", f.checkpoint, "a model-epoch<k>.safetensors or checkpoint.safetensors")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--out", f.out, "output directory")->capture_default_str();
  app.add_option("-n,--count", f.n, "number of samples (without --digits)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--digits", f.digits, "classes (digits) to draw, one sample each (class-conditioned; -1 = no class)")
      ->delimiter(',')
      ->check(CLI::Range(-1, 9));
  app.add_option("--gamma", f.gamma, "classifier-free guidance scale")->check(finite_number)->capture_default_str();
  app.add_option("--steps", f.steps, "solver steps T (each takes 1, 2, 2 or 4 model evaluations)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  add_solver_flag(app, f.solver);
  app.add_option("--seed", f.seed, "noise seed")->capture_default_str();
  add_device_flag(app, f.device);
  add_threads_flag(app, f.threads);
  EXAMPLES_PARSE_FLAGS(app, argc, argv);
  return guarded([&] {
    apply_threads(f.threads);
    const auto meta = safetensors::read_metadata(f.checkpoint);
    const auto it = meta.find("model");
    if (it == meta.end())
      throw Error(f.checkpoint + " names no model in its metadata: it was not written by unetflow's trainer.");
    f.model_name = it->second;
    if (const auto names = meta.find("class_names"); names != meta.end() && !names->second.empty()) {
      std::stringstream list(names->second);
      for (std::string name; std::getline(list, name);) f.class_names.push_back(name);
    }
    std::smatch m;
    if (!std::regex_match(f.model_name, m,
                          std::regex(R"((Class)?TimeUNet<(1,28,28|3,32,32),D=(\d{1,3})(,classes=10)?>)")))
      throw Error(f.checkpoint + " holds a " + f.model_name + ", not a flow-matching model of the programs " +
                  "(TimeUNet or ClassTimeUNet on 1x28x28 or 3x32x32 images).");
    const bool classes = m[1].matched;
    const int hidden = std::stoi(m[3]);
    const int side = m[2] == "1,28,28" ? 28 : 32;  // the model's image shape, for the dispatch
    return with_image_shape(side == 28 ? 1 : 3, side, side, f.checkpoint, [&]<class In>() {
      return with_backend(f.device, [&]<class B>() {
        return classes ? sample_run<In, true, B>(f, hidden) : sample_run<In, false, B>(f, hidden);
      });
    });
  });
}
