#pragma once
// The classifier's runs, compiled once per backend (classifier.cpp): train_classifier and score call them. The
// scorer of generated images (eval/scorer.hpp) is compiled there too, once per image shape and backend (the flow
// runs, flow_impl.hpp, use that one).
#include <string>

#include "support/flags.hpp"

namespace examples {

// train_classifier: trains the classifier, writes its weights and the scores of real test digits.
template <class B>
int train_classifier_run(const TrainFlags& flags);

// score: the scores of the samples in an .npy file (with the requested digits in another, if given).
struct ScoreFlags {
  std::string samples, labels, classifier, data = "data/mnist", device = "auto";  // classifier: per data set
  int threads = 0;
};
template <class B>
int score_run(const ScoreFlags& f);

}  // namespace examples
