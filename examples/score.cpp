// Scores a set of samples (.npy [n, C, H, W], values about [0, 1]) with the classifier of their data set:
//   score runs/flow_class/d10_samples_epoch10.npy --labels runs/flow_class/d10_labels_epoch10.npy
//   score samples.npy --data /usr/share/datasets/fashion-mnist   (the classifier of runs/classifier_fashion-mnist)
#include "runs/classifier.hpp"
#include "support/cli.hpp"

int main(int argc, char** argv) {
  examples::use_program_wait_policy(argv);
  using namespace examples;
  CLI::App app{
      "Score generated images: accuracy on the requested class, confident share, class spread, Frechet distance"};
  ScoreFlags f;
  app.add_option("samples", f.samples, ".npy of samples [n, C, H, W] (the shape of --data's images)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--labels", f.labels, ".npy of the requested classes [n] (class-conditioned samples)")
      ->check(CLI::ExistingFile);
  app.add_option("--classifier", f.classifier,
                 "classifier weights (default: the one train_classifier writes for --data)");
  app.add_option("--data", f.data, "the samples' data set (its test set is the reference)")->capture_default_str();
  add_device_flag(app, f.device);
  add_threads_flag(app, f.threads);
  EXAMPLES_PARSE_FLAGS(app, argc, argv);
  return guarded([&] {
    apply_threads(f.threads);
    return with_backend(f.device, [&]<class B>() { return score_run<B>(f); });
  });
}
