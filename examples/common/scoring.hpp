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

#include "classifier_run.hpp"
#include "programs.hpp"
#include "images.hpp"

namespace examples {

template <class B = cpu>
using Classifier = DigitClassifier<32, B>;
// Part of every classifier checkpoint's metadata: a checkpoint of the earlier, average-pooled head is refused by name.
inline const char* classifier_name = "DigitClassifier<W=32,flat-head>";

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

// Compiled once per backend (scoring.cpp): the programs that score only call it.
template <class B = cpu>
class Scorer {
 public:
  using Model = Classifier<B>;
  // Loads the classifier and the features of the real test digits.
  Scorer(const fs::path& classifier, const ImageSet& test);
  ~Scorer();
  // samples: n images of 28x28; requested: the asked-for digit of each (nullptr: unconditional).
  Scores score(const float* samples, int n, const std::int64_t* requested);

 private:
  std::vector<float> run(const float* images, int n, std::vector<int>* predicted = nullptr);
  std::unique_ptr<Model> model_;
  Gaussian reference_;
};

}  // namespace examples
