// Trains the classifier that scores generated images of a data set (score, train_flow), and reports its test
// accuracy and the Frechet distance of the test set's own halves (the floor of that measure). Writes
// runs/classifier/classifier.safetensors for data/mnist, runs/classifier_<folder>/ for any other --data.
#include "runs/classifier.hpp"
#include "support/cli.hpp"
#include "support/flags.hpp"

int main(int argc, char** argv) {
  examples::use_program_wait_policy(argv);
  using namespace examples;
  CLI::App app{"Train the classifier used to score samples of a data set (accuracy, class spread, Frechet distance)"};
  TrainFlags flags;
  flags.name = "classifier";
  flags.epochs = 2;
  flags.batch = 128;
  flags.lr = 2e-3;
  flags.add_to(app);
  EXAMPLES_PARSE_FLAGS(app, argc, argv);
  if (app.get_option("--name")->count() == 0)
    flags.name = default_classifier_for(flags.data).parent_path().filename().string();
  return guarded([&] {
    flags.apply_threads();
    return with_backend(flags.device, [&]<class B>() { return train_classifier_run<B>(flags); });
  });
}
