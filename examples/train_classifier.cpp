// Trains the DigitClassifier that scores generated digits (score, train_flow), and reports its test accuracy
// and the Frechet distance of the test set's own halves (the floor of that measure). Writes
// runs/classifier/classifier.safetensors.
#include "common/classifier_run.hpp"
#include "common/cli.hpp"

int main(int argc, char** argv) {
  examples::use_program_wait_policy(argv);
  using namespace examples;
  CLI::App app{"Train the digit classifier used to score samples (accuracy, class spread, Frechet distance)"};
  TrainFlags flags;
  flags.name = "classifier";
  flags.epochs = 2;
  flags.batch = 128;
  flags.lr = 2e-3;
  flags.add_to(app);
  CLI11_PARSE(app, argc, argv);
  flags.apply_threads();
  return guarded([&] { return with_backend(flags.device, [&]<class B>() { return train_classifier_run<B>(flags); }); });
}
