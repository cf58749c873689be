// The digit classifier's runs (train_classifier, score) and the scorer of generated digits (train_flow too),
// compiled once per backend.
#include "scoring.hpp"

#include <algorithm>
#include <filesystem>

#include "run_summary.hpp"

namespace examples {

template <class B>
Scorer<B>::Scorer(const fs::path& classifier, const ImageSet& test) : model_(std::make_unique<Model>()) {
  check_images_fit<typename Model::In>(test, "the test set");
  load_weights(classifier, {{"model", classifier_name}}, *model_);
  set_training(*model_, false);
  auto features = run(test.images.data(), test.n);
  reference_ = fit_gaussian(features, test.n, Model::feature_size);
}

template <class B>
Scorer<B>::~Scorer() = default;

template <class B>
Scores Scorer<B>::score(const float* samples, int n, const std::int64_t* requested) {
  Scores s;
  s.n = n;
  std::vector<int> predicted;
  auto features = run(samples, n, &predicted);
  int correct = 0;
  for (int i = 0; i < n; ++i) {
    ++s.histogram[std::size_t(predicted[std::size_t(i)])];
    if (requested && predicted[std::size_t(i)] == requested[i]) ++correct;
  }
  if (requested) s.accuracy = double(correct) / n;
  for (int c : s.histogram)
    if (c) s.spread -= (double(c) / n) * std::log(double(c) / n) / std::log(10.0);
  s.frechet = frechet_distance(fit_gaussian(features, n, Model::feature_size), reference_);
  return s;
}

template <class B>
std::vector<float> Scorer<B>::run(const float* images, int n, std::vector<int>* predicted) {
  using In = typename Model::In;
  std::vector<float> features;
  const auto logits = map_batches<In, B>(images, n, 500, [&](View<In, const float> x) {
    auto logits_of_batch = model_->forward(x);
    const auto f = download<B>(model_->features());
    features.insert(features.end(), f.begin(), f.end());
    return logits_of_batch;
  });
  if (predicted)
    for (int i = 0; i < n; ++i) {
      const float* z = logits.data() + std::ptrdiff_t(i) * 10;
      predicted->push_back(int(std::max_element(z, z + 10) - z));
    }
  return features;
}

template <class B>
int train_classifier_run(const TrainFlags& flags) {
  using Model = Classifier<B>;
  const auto train = load_mnist(flags.data, Split::train);
  const auto test = load_mnist(flags.data, Split::test);
  check_images_fit<typename Model::In>(test, "the test set");
  auto model = std::make_unique<Model>();
  Rng init(flags.seed, 2);
  reset_parameters(*model, init);
  ClassificationTask<Model> task;
  Trainer<Model, ClassificationTask<Model>> trainer(*model, task, train, train_options(flags, 1.0),
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
}

template <class B>
int score_run(const ScoreFlags& f) {
  const auto x = read_npy<float>(f.samples);
  if (x.empty() || x.size() % 784)
    throw Error(f.samples + " holds " + std::to_string(x.size()) + " values, not a whole number of 28x28 images.");
  const int n = int(x.size() / 784);
  std::vector<std::int64_t> y;
  if (!f.labels.empty()) {
    y = read_npy<std::int64_t>(f.labels);
    if (int(y.size()) != n)
      throw Error(f.labels + " holds " + std::to_string(y.size()) + " labels for " + std::to_string(n) + " samples.");
  }
  if (!fs::exists(f.classifier)) throw Error("no classifier at " + f.classifier + ": train one with train_classifier.");
  Scorer<B> scorer(f.classifier, load_mnist(f.data, Split::test));
  const auto s = scorer.score(x.data(), n, y.empty() ? nullptr : y.data());
  std::printf("%s\n%s\n", s.line().c_str(), s.json().dump().c_str());
  return 0;
}

template class Scorer<cpu>;
template int score_run<cpu>(const ScoreFlags&);
template int train_classifier_run<cpu>(const TrainFlags&);
#if defined(UNETFLOW_HAS_CUDA)
template class Scorer<cuda>;
template int train_classifier_run<cuda>(const TrainFlags&);
template int score_run<cuda>(const ScoreFlags&);
#endif

}  // namespace examples
