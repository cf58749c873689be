// The classifier's runs (train_classifier, score) and the scorer of generated images (train_flow too), compiled
// once per backend for each image shape the programs take (with_image_shape).
#include <unetflow/eval/scorer.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unetflow/io/safetensors.hpp>

#include "runs/classifier.hpp"
#include "support/images.hpp"
#include "support/programs.hpp"

namespace examples {

template <class In, class B>
int train_classifier_for(const TrainFlags& flags, const ImageSet& train, const ImageSet& test) {
  using Model = Classifier<In, B>;
  check_images_fit<In>(test, "the test set");
  require_images(test, 4, "the test set", "the classifier's evaluation needs (two halves of at least 2)");
  for (const auto* set : {&train, &test}) require_classes(*set, 10, "the programs' classifiers");
  auto model = std::make_unique<Model>();
  Rng init(flags.seed, 2);
  reset_parameters(*model, init);
  ClassificationTask<Model> task;
  Trainer<Model, ClassificationTask<Model>, ProcessComm> trainer(
      *model, task, train, train_options(flags, 1.0),
      {{"model", classifier_name<In>()}, {"data", test.source}, {"data_fingerprint", fingerprint(test)}},
      process_comm_for<B>(flags));
  if (trainer.run() == decltype(trainer)::Outcome::interrupted) {
    if (trainer.writes_outputs()) std::fprintf(stderr, "interrupted: resume with the same command and --resume\n");
    return 130;
  }
  if (!trainer.writes_outputs()) return 0;
  RunSummary summary(flags.run_dir());
  const auto out = summary.file("classifier.safetensors", "the classifier's weights (score, train_flow --classifier)");
  {  // a copy of the last epoch's weights file, written as every file is (atomically, checked)
    const auto last = flags.run_dir() / ("model-epoch" + std::to_string(flags.epochs) + ".safetensors");
    std::ifstream in(last, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) throw Error("cannot read " + last.string() + ".");
    write_atomically(out, bytes);
  }
  set_training(*model, false);
  const auto logits = map_batches<typename Model::In, B>(
      test.images.data(), test.n, 500, [&](View<typename Model::In, const float> x) { return model->forward(x); });
  int correct = 0;
  for (int i = 0; i < test.n; ++i) {
    const float* z = logits.data() + std::ptrdiff_t(i) * 10;
    correct += int(std::max_element(z, z + 10) - z) == test.labels[std::size_t(i)];
  }
  // The floor of the Frechet measure: one half of the test set against the whole.
  Scorer<In, B> scorer(out, test);
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
        grid.insert(grid.end(), test.image(i), test.image(i) + In::size);
        grid_labels.push_back(digit);
        ++taken;
      }
  const auto real40 = scorer.score(grid.data(), int(grid_labels.size()), grid_labels.data());
  summary["test_accuracy"] = double(correct) / test.n;
  summary["device"] = device_description<B>();
  summary["real_digits_scores"] = real.json();
  summary["real_digits_40_scores"] = real40.json();
  summary["training"] = {{"epoch_seconds", trainer.progress().epoch_seconds.values},
                         {"final_loss", trainer.losses().back()}};
  summary.write();
  std::printf("classifier test accuracy %.2f%% (%d of %d); real test images score: %s\n", 100.0 * correct / test.n,
              correct, test.n, real.line().c_str());
  std::printf("40 real test images (4 of each class), the reference for a sample grid: %s\n", real40.line().c_str());
  std::printf("written to %s\n", out.c_str());
  return 0;
}

template <class B>
int train_classifier_run(const TrainFlags& flags) {
  const auto train = open_data(flags.data, Split::train);
  const auto test = open_data(flags.data, Split::test);
  return with_image_shape(train, [&]<class In>() { return train_classifier_for<In, B>(flags, train, test); });
}

template <class In, class B>
int score_for(const ScoreFlags& f, const ImageSet& test) {
  const auto samples = read_npy_array<float>(f.samples);
  const std::vector<std::size_t> image{std::size_t(In::C), std::size_t(In::H), std::size_t(In::W)};
  auto shape_text = [](const std::vector<std::size_t>& shape) {
    std::string t = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) t += (i ? ", " : "") + std::to_string(shape[i]);
    return t + (shape.size() == 1 ? ",)" : ")");
  };
  if (samples.shape.size() != 4 || samples.shape[0] == 0 ||
      !std::equal(image.begin(), image.end(), samples.shape.begin() + 1))
    throw Error(f.samples + " has the shape " + shape_text(samples.shape) + ", not (n, " + std::to_string(In::C) +
                ", " + std::to_string(In::H) + ", " + std::to_string(In::W) + ") with n >= 1: the images of " +
                test.source + " are " + test.shape_text() + ".");
  const auto& x = samples.data;
  if (const auto bad = std::find_if(x.begin(), x.end(), [](float v) { return !std::isfinite(v); }); bad != x.end())
    throw Error(f.samples + " holds a value that is not a finite number (" + std::to_string(*bad) + " at index " +
                std::to_string(bad - x.begin()) + ").");
  const int n = int(x.size() / In::size);
  std::vector<std::int64_t> y;
  if (!f.labels.empty()) {
    const auto labels = read_npy_array<std::int64_t>(f.labels);
    if (labels.shape.size() != 1 || labels.shape[0] != std::size_t(n))
      throw Error(f.labels + " has the shape " + shape_text(labels.shape) + ", not (" + std::to_string(n) +
                  ",): one label for each of the " + std::to_string(n) + " samples.");
    y = labels.data;
    // sample writes -1 for a sample drawn without a class: it counts as not what was asked.
    if (const auto bad = std::find_if(y.begin(), y.end(), [](std::int64_t c) { return c < -1 || c > 9; });
        bad != y.end())
      throw Error(f.labels + " holds the label " + std::to_string(*bad) + " at index " +
                  std::to_string(bad - y.begin()) + ", neither a class 0-9 nor -1 (no class).");
  }
  Scorer<In, B> scorer(f.classifier.empty() ? default_classifier_for(f.data) : fs::path(f.classifier), test);
  const auto s = scorer.score(x.data(), n, y.empty() ? nullptr : y.data());
  std::printf("%s\n%s\n", s.line().c_str(), s.json().dump().c_str());
  return 0;
}

template <class B>
int score_run(const ScoreFlags& f) {
  const auto test = open_data(f.data, Split::test);
  return with_image_shape(test, [&]<class In>() { return score_for<In, B>(f, test); });
}

template int score_run<cpu>(const ScoreFlags&);
template int train_classifier_run<cpu>(const TrainFlags&);
#if defined(UNETFLOW_HAS_CUDA)
template int train_classifier_run<cuda>(const TrainFlags&);
template int score_run<cuda>(const ScoreFlags&);
#endif

}  // namespace examples

namespace unetflow {
template class Scorer<Shape<1, 28, 28>, cpu>;
template class Scorer<Shape<3, 32, 32>, cpu>;
#if defined(UNETFLOW_HAS_CUDA)
template class Scorer<Shape<1, 28, 28>, cuda>;
template class Scorer<Shape<3, 32, 32>, cuda>;
#endif
}  // namespace unetflow
