// Trains the DigitClassifier that scores generated digits (score, train_flow), and reports its test accuracy
// and the Frechet distance of the test set's own halves (the floor of that measure). Writes
// runs/classifier/classifier.safetensors.
#include <filesystem>

#include "common/cli.hpp"
#include "common/images.hpp"
#include "common/run_summary.hpp"
#include "common/scoring.hpp"

int main(int argc, char** argv) {
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
  return guarded([&] { return with_backend(flags.device, [&]<class B>() {
    using Model = Classifier<B>;
    const auto train = load_mnist(flags.data, Split::train);
    const auto test = load_mnist(flags.data, Split::test);
    auto model = std::make_unique<Model>();
    Rng init(flags.seed, 2);
    reset_parameters(*model, init);
    ClassificationTask<Model> task;
    Trainer<Model, ClassificationTask<Model>> trainer(*model, task, train, flags.train_options(1.0),
                                                                {{"model", classifier_name}});
    if (trainer.run() == decltype(trainer)::Outcome::interrupted) {
      std::fprintf(stderr, "interrupted: resume with the same command and --resume\n");
      return 130;
    }
    RunSummary summary(flags.run_dir());
    const auto out = summary.file("classifier.safetensors", "the classifier's weights (score, train_flow --classifier)");
    std::filesystem::copy_file(flags.run_dir() / ("model-epoch" + std::to_string(flags.epochs) + ".safetensors"), out,
                               std::filesystem::copy_options::overwrite_existing);
    set_training(*model, false);
    const auto logits = map_batches<typename Model::In, B>(test.images.data(), test.n, 500, [&](View<typename Model::In, const float> x) { return model->forward(x); });
    int correct = 0;
    for (int i = 0; i < test.n; ++i) {
      const float* z = logits.data() + std::ptrdiff_t(i) * 10;
      correct += int(std::max_element(z, z + 10) - z) == test.labels[std::size_t(i)];
    }
    // The floor of the Frechet measure: one half of the test set against the whole.
    Scorer<B> scorer(out, test);
    const int half = test.n / 2;
    std::vector<std::int64_t> labels(test.labels.begin(), test.labels.begin() + half);
    const auto real = scorer.score(test.images.data(), half, labels.data());
    // The same scores for 40 real test digits (the first 4 of each digit): what a sample grid of 4 per digit would
    // score if it were perfect. The Frechet distance of 40 samples carries a large small-sample bias.
    std::vector<float> grid;
    std::vector<std::int64_t> grid_labels;
    for (int digit = 0; digit < 10; ++digit)
      for (int i = 0, taken = 0; i < test.n && taken < 4; ++i)
        if (test.labels[std::size_t(i)] == digit) {
          grid.insert(grid.end(), test.image(i), test.image(i) + 784);
          grid_labels.push_back(digit);
          ++taken;
        }
    const auto real40 = scorer.score(grid.data(), int(grid_labels.size()), grid_labels.data());
    summary["test_accuracy"] = double(correct) / test.n;
    summary["device"] = device_description<B>();
    summary["real_digits_scores"] = real.json();
    summary["real_digits_40_scores"] = real40.json();
    summary["training"] = {{"epoch_seconds", trainer.progress().epoch_seconds.values}, {"final_loss", trainer.losses().back()}};
    summary.write();
    std::printf("classifier test accuracy %.2f%% (%d of %d); real test digits score: %s\n", 100.0 * correct / test.n, correct,
                test.n, real.line().c_str());
    std::printf("40 real test digits (4 of each), the reference for a sample grid: %s\n", real40.line().c_str());
    std::printf("written to %s\n", out.c_str());
    return 0;
  }); });
}
