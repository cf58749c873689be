// Samples from any flow-matching checkpoint (model-epoch<k>.safetensors or a run's checkpoint.safetensors):
//   sample runs/flow_class/model-epoch10.safetensors --digits 3,3,7 --gamma 5 --steps 50 --out my_samples
// writes my_samples/samples.png, samples.npy [n, C, H, W] and, class-conditioned, labels.npy [n];
//   sample runs/flow_class/model-epoch10.safetensors --gamma-sweep 0,1,2,3,5,7.5 --data data/mnist
// scores 500 samples at each guidance scale (runs/guidance_mnist/: guidance_sweep.png, .csv, summary.json).
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
  app.add_option("--gamma-sweep", f.gamma_sweep,
                 "score --count samples (default 500) at each guidance scale, e.g. 0,1,2,3,5,7.5: accuracy and "
                 "Frechet distance against gamma (class-conditioned)")
      ->delimiter(',')
      ->check(finite_number & CLI::Range(0.0, 100.0));
  app.add_option("--data", f.data, "--gamma-sweep: the data set whose test set and classifier score the samples")
      ->capture_default_str();
  app.add_option("--classifier", f.classifier,
                 "--gamma-sweep: the classifier (default: train_classifier's for --data)");
  add_device_flag(app, f.device);
  add_threads_flag(app, f.threads);
  EXAMPLES_PARSE_FLAGS(app, argc, argv);
  if (!f.gamma_sweep.empty()) {
    if (app.get_option("--count")->count() == 0) f.n = 500;
    if (app.get_option("--out")->count() == 0) f.out = "runs/guidance_" + folder_name(f.data);
    if (f.classifier.empty()) f.classifier = default_classifier_for(f.data).string();
  }
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
    const auto kind = parse_flow_model_name(f.model_name);
    if (!kind)
      throw Error(f.checkpoint + " holds a " + f.model_name + ", not a flow-matching model of the programs " +
                  "(train_flow's: TimeUNet, ClassTimeUNet, EveryLevelTimeUNet, ResidualTimeUNet or " +
                  "ResidualClassTimeUNet).");
    f.arch = kind->arch;
    f.hidden = kind->hidden;
    return with_image_shape(kind->channels, kind->side, kind->side, f.checkpoint, [&]<class In>() {
      return with_backend(f.device, [&]<class B>() {
        return kind->classes ? sample_run<In, true, B>(f) : sample_run<In, false, B>(f);
      });
    });
  });
}
