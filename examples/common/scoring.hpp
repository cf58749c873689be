#pragma once
// Scores of generated images, measured with the library's own ImageClassifier trained on the same data set
// (train_classifier --data):
//   accuracy     fraction classified as the requested class (class-conditioned samples)
//   confident    fraction the classifier assigns to some class with probability >= 0.9 (recognisable samples)
//   spread       the predicted-class histogram and its entropy / log 10 (1: all classes equally often)
//   frechet      Frechet distance between the classifier's penultimate features of the samples and of the
//                data set's test images (an FID on a small classifier; lower is closer to real images)
// A classifier records the data set it was trained on (data_fingerprint, datasets.hpp); a scorer refuses a
// classifier of another data set.
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <unetflow/eval/frechet.hpp>
#include <unetflow/models/classifier.hpp>

#include "classifier_run.hpp"
#include "datasets.hpp"
#include "programs.hpp"
#include "images.hpp"

namespace examples {

template <class In, class B = cpu>
using Classifier = ImageClassifier<In, 10, 32, B>;
// Part of every classifier checkpoint's metadata: a checkpoint of the earlier, average-pooled head is refused by name.
template <class In>
std::string classifier_name() {
  if constexpr (std::is_same_v<In, Shape<1, 28, 28>>) return "DigitClassifier<W=32,flat-head>";
  else return "ImageClassifier<" + shape_text<In>() + ",W=32,flat-head>";
}

struct Scores {
  int n = 0;
  double accuracy = -1;  // -1: no requested labels
  std::array<int, 10> histogram{};
  double spread = 0, frechet = 0, confident = 0;

  nlohmann::json json() const {
    nlohmann::json j{{"samples", n}, {"class_histogram", histogram}, {"class_spread", spread}, {"frechet_distance", frechet},
                     {"confident_share", confident}};
    if (accuracy >= 0) j["accuracy"] = accuracy;
    return j;
  }
  std::string line() const {
    std::string s = "classifier scores of " + std::to_string(n) + " samples:";
    if (accuracy >= 0) s += " accuracy " + fmt(100 * accuracy, 1) + "%,";
    return s + " confident " + fmt(100 * confident, 1) + "%, class spread " + fmt(spread, 3) +
           ", Frechet distance to the test set " + fmt(frechet, 2);
  }
};

// Compiled once per image shape and backend (classifier.cpp): the programs that score only call it.
template <class In, class B = cpu>
class Scorer {
 public:
  using Model = Classifier<In, B>;
  // Loads the classifier (refusing one of another data set) and the features of the real test images.
  Scorer(const fs::path& classifier, const ImageSet& test);
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

}  // namespace examples
