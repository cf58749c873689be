#pragma once
// Scores of generated digits, measured with the library's own DigitClassifier (train_classifier):
//   accuracy     fraction classified as the requested digit (class-conditioned samples)
//   spread       the predicted-class histogram and its entropy / log 10 (1: all digits equally often)
//   frechet      Frechet distance between the classifier's penultimate features of the samples and of the
//                MNIST test set (an FID on a digit classifier; lower is closer to real digits)
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <unetflow/eval/frechet.hpp>
#include <unetflow/models/classifier.hpp>

#include "cli.hpp"
#include "images.hpp"

namespace examples {

template <class B = cpu>
using Classifier = DigitClassifier<32, B>;
// Part of every classifier checkpoint's metadata: a checkpoint of the earlier, average-pooled head is refused by name.
inline const char* classifier_name = "DigitClassifier<W=32,flat-head>";
inline const char* default_classifier = "runs/classifier/classifier.safetensors";

struct Scores {
  int n = 0;
  double accuracy = -1;  // -1: no requested labels
  std::array<int, 10> histogram{};
  double spread = 0, frechet = 0;

  nlohmann::json json() const {
    nlohmann::json j{{"samples", n}, {"class_histogram", histogram}, {"class_spread", spread}, {"frechet_distance", frechet}};
    if (accuracy >= 0) j["accuracy"] = accuracy;
    return j;
  }
  std::string line() const {
    std::string s = "classifier scores of " + std::to_string(n) + " samples:";
    if (accuracy >= 0) s += " accuracy " + fmt(100 * accuracy, 1) + "%,";
    return s + " class spread " + fmt(spread, 3) + ", Frechet distance to MNIST test " + fmt(frechet, 2);
  }
};

template <class B = cpu>
class Scorer {
 public:
  using Model = Classifier<B>;
  // Loads the classifier and the features of the real test digits.
  Scorer(const fs::path& classifier, const ImageSet& test) : model_(std::make_unique<Model>()) {
    load_weights(classifier, {{"model", classifier_name}}, *model_);
    set_training(*model_, false);
    auto features = run(test.images.data(), test.n);
    reference_ = fit_gaussian(features, test.n, Model::feature_size);
  }

  // samples: n images of 28x28; requested: the asked-for digit of each (nullptr: unconditional).
  Scores score(const float* samples, int n, const std::int64_t* requested) {
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

 private:
  std::vector<float> run(const float* images, int n, std::vector<int>* predicted = nullptr) {
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

  std::unique_ptr<Model> model_;
  Gaussian reference_;
};

}  // namespace examples
