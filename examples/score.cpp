// Scores a set of samples (.npy [n, 1, 28, 28], values about [0, 1]) with the digit classifier:
//   score runs/flow_class/d10_samples_epoch10.npy --labels runs/flow_class/d10_labels_epoch10.npy
#include "common/classifier_run.hpp"
#include "common/cli.hpp"

int main(int argc, char** argv) {
  examples::use_program_wait_policy(argv);
  using namespace examples;
  CLI::App app{"Score generated digits: accuracy on the requested class, class spread, Frechet distance"};
  ScoreFlags f;
  app.add_option("samples", f.samples, ".npy of samples [n, 1, 28, 28]")->required()->check(CLI::ExistingFile);
  app.add_option("--labels", f.labels, ".npy of the requested digits [n] (class-conditioned samples)")->check(CLI::ExistingFile);
  app.add_option("--classifier", f.classifier, "classifier weights (train_classifier)")->capture_default_str();
  app.add_option("--data", f.data, "MNIST directory (the test set is the reference)")->capture_default_str();
  add_device_flag(app, f.device);
  add_threads_flag(app, f.threads);
  CLI11_PARSE(app, argc, argv);
  return guarded([&] {
    apply_threads(f.threads);
    return with_backend(f.device, [&]<class B>() { return score_run<B>(f); });
  });
}
