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

using Classifier = DigitClassifier<32>;
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

class Scorer {
 public:
  // Loads the classifier and the features of the real test digits.
  Scorer(const fs::path& classifier, const ImageSet& test) : model_(std::make_unique<Classifier>()) {
    load_weights(classifier, {{"model", classifier_name}}, *model_);
    set_training(*model_, false);
    auto features = run(test.images.data(), test.n);
    reference_ = fit_gaussian(features, test.n, Classifier::feature_size);
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
    s.frechet = frechet_distance(fit_gaussian(features, n, Classifier::feature_size), reference_);
    return s;
  }

 private:
  std::vector<float> run(const float* images, int n, std::vector<int>* predicted = nullptr) {
    using In = Classifier::In;
    std::vector<float> features(std::size_t(n) * Classifier::feature_size);
    for (int begin = 0; begin < n; begin += 500) {
      const int m = std::min(500, n - begin);
      auto logits = model_->forward(View<In, const float>{images + std::ptrdiff_t(begin) * In::size, m});
      auto f = model_->features();
      std::copy(f.data, f.data + f.numel(), features.begin() + std::ptrdiff_t(begin) * Classifier::feature_size);
      if (predicted)
        for (int i = 0; i < m; ++i) {
          const float* z = logits.sample(i);
          predicted->push_back(int(std::max_element(z, z + 10) - z));
        }
    }
    return features;
  }

  std::unique_ptr<Classifier> model_;
  Gaussian reference_;
};

}  // namespace examples
