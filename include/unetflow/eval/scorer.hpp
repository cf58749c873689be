#pragma once
// Scores of generated images, measured with the library's own ImageClassifier trained on the same data set
// (train_classifier --data):
//   accuracy     fraction classified as the requested class (class-conditioned samples)
//   confident    fraction the classifier assigns to some class with probability >= 0.9 (recognisable samples)
//   spread       the predicted-class histogram and its entropy / log 10 (1: all classes equally often)
//   frechet      Frechet distance between the classifier's penultimate features of the samples and of the
//                data set's test images (an FID on a small classifier; lower is closer to real images)
// A classifier records the data set it was trained on (data_fingerprint, data/datasets.hpp); a scorer refuses a
// classifier of another data set.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../backend/cpu.hpp"
#include "../data/datasets.hpp"
#include "../io/checkpoint.hpp"
#include "../io/safetensors.hpp"
#include "../models/classifier.hpp"
#include "../transfer.hpp"
#include "frechet.hpp"

namespace unetflow {

// The scorer's classifier: ImageClassifier of width 32 over 10 classes, for images of shape In.
template <class In, class B = cpu>
using Classifier = ImageClassifier<In, 10, 32, B>;
// Part of every classifier checkpoint's metadata: a checkpoint of the earlier, average-pooled head is refused by name.
template <class In>
std::string classifier_name() {
  if constexpr (std::is_same_v<In, Shape<1, 28, 28>>)
    return "DigitClassifier<W=32,flat-head>";
  else
    return "ImageClassifier<" + shape_text<In>() + ",W=32,flat-head>";
}

namespace detail {
inline std::string fixed_digits(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
}  // namespace detail

struct Scores {
  int n = 0;
  double accuracy = -1;  // -1: no requested labels
  std::array<int, 10> histogram{};
  double spread = 0, frechet = 0, confident = 0;

  nlohmann::json json() const {
    nlohmann::json j{{"samples", n},
                     {"class_histogram", histogram},
                     {"class_spread", spread},
                     {"frechet_distance", frechet},
                     {"confident_share", confident}};
    if (accuracy >= 0) j["accuracy"] = accuracy;
    return j;
  }
  std::string line() const {
    std::string s = "classifier scores of " + std::to_string(n) + " samples:";
    auto fmt = detail::fixed_digits;
    if (accuracy >= 0) s += " accuracy " + fmt(100 * accuracy, 1) + "%,";
    return s + " confident " + fmt(100 * confident, 1) + "%, class spread " + fmt(spread, 3) +
           ", Frechet distance to the test set " + fmt(frechet, 2);
  }
};

// A program that scores with several models can compile it once per image shape and backend (explicit
// instantiation; the example programs do, in examples/runs/classifier.cpp).
template <class In, class B = cpu>
class Scorer {
 public:
  using Model = Classifier<In, B>;
  // Loads the classifier (refusing one of another data set) and the features of the real test images.
  Scorer(const std::filesystem::path& classifier, const ImageSet& test);
  ~Scorer();
  // samples: n images of shape In; requested: the asked-for class of each (nullptr: unconditional).
  Scores score(const float* samples, int n, const std::int64_t* requested);

 private:
  // The features of n images; with `predicted`, each one's class and its probability.
  std::vector<float> run(const float* images, int n, std::vector<int>* predicted = nullptr,
                         std::vector<float>* probability = nullptr);
  std::unique_ptr<Model> model_;
  Gaussian reference_;
};

template <class In, class B>
Scorer<In, B>::Scorer(const std::filesystem::path& classifier, const ImageSet& test)
    : model_(std::make_unique<Model>()) {
  check_images_fit<In>(test, "the test set");
  require_images(test, 2, "the test set", "a Frechet reference needs");
  if (!std::filesystem::exists(classifier))
    throw Error("no classifier at " + classifier.string() + ": train one on " + test.source +
                " with train_classifier --data " + test.source + ".");
  const auto meta = safetensors::read_metadata(classifier);
  const auto trained_on = meta.find("data_fingerprint");
  if (trained_on == meta.end())
    throw Error(
        classifier.string() +
        " does not record the data set it was trained on (it predates that): train it again with train_classifier.");
  if (trained_on->second != fingerprint(test)) {
    const auto source = meta.find("data");
    throw Error(classifier.string() + " was trained on another data set (" +
                (source == meta.end() ? trained_on->second : source->second) + ") than the test set of " + test.source +
                ": train one with train_classifier --data " + test.source + ".");
  }
  load_weights(classifier, {{"model", classifier_name<In>()}}, *model_);
  set_training(*model_, false);
  auto features = run(test.images.data(), test.n);
  reference_ = fit_gaussian(features, test.n, Model::feature_size);
}

template <class In, class B>
Scorer<In, B>::~Scorer() = default;

template <class In, class B>
Scores Scorer<In, B>::score(const float* samples, int n, const std::int64_t* requested) {
  Scores s;
  s.n = n;
  std::vector<int> predicted;
  std::vector<float> probability;
  auto features = run(samples, n, &predicted, &probability);
  int correct = 0, confident = 0;
  for (int i = 0; i < n; ++i) {
    ++s.histogram[std::size_t(predicted[std::size_t(i)])];
    if (requested && predicted[std::size_t(i)] == requested[i]) ++correct;
    confident += probability[std::size_t(i)] >= 0.9f;
  }
  s.confident = double(confident) / n;
  if (requested) s.accuracy = double(correct) / n;
  for (int c : s.histogram)
    if (c) s.spread -= (double(c) / n) * std::log(double(c) / n) / std::log(10.0);
  s.frechet = frechet_distance(fit_gaussian(features, n, Model::feature_size), reference_);
  return s;
}

template <class In, class B>
std::vector<float> Scorer<In, B>::run(const float* images, int n, std::vector<int>* predicted,
                                      std::vector<float>* probability) {
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
      const int k = int(std::max_element(z, z + 10) - z);
      predicted->push_back(k);
      double sum = 0;  // softmax of the largest logit: 1 / sum exp(z - z_max)
      for (int j = 0; j < 10; ++j) sum += std::exp(double(z[j]) - z[k]);
      if (probability) probability->push_back(float(1.0 / sum));
    }
  return features;
}

}  // namespace unetflow
