// Scores a set of samples (.npy [n, 1, 28, 28], values about [0, 1]) with the digit classifier:
//   score runs/flow_class/d10_samples_epoch10.npy --labels runs/flow_class/d10_labels_epoch10.npy
#include "common/cli.hpp"
#include "common/scoring.hpp"

int main(int argc, char** argv) {
  using namespace examples;
  CLI::App app{"Score generated digits: accuracy on the requested class, class spread, Frechet distance"};
  std::string samples, labels, classifier = default_classifier, data = "data/mnist", device = "auto";
  app.add_option("samples", samples, ".npy of samples [n, 1, 28, 28]")->required()->check(CLI::ExistingFile);
  app.add_option("--labels", labels, ".npy of the requested digits [n] (class-conditioned samples)")->check(CLI::ExistingFile);
  app.add_option("--classifier", classifier, "classifier weights (train_classifier)")->capture_default_str();
  app.add_option("--data", data, "MNIST directory (the test set is the reference)")->capture_default_str();
  add_device_flag(app, device);
  CLI11_PARSE(app, argc, argv);
  return guarded([&] {
    const auto x = read_npy<float>(samples);
    if (x.empty() || x.size() % 784) throw Error(samples + " holds " + std::to_string(x.size()) + " values, not a whole number of 28x28 images.");
    const int n = int(x.size() / 784);
    std::vector<std::int64_t> y;
    if (!labels.empty()) {
      y = read_npy<std::int64_t>(labels);
      if (int(y.size()) != n) throw Error(labels + " holds " + std::to_string(y.size()) + " labels for " + std::to_string(n) + " samples.");
    }
    if (!fs::exists(classifier)) throw Error("no classifier at " + classifier + ": train one with train_classifier.");
    const auto s = with_backend(device, [&]<class B>() {
      Scorer<B> scorer(classifier, load_mnist(data, Split::test));
      return scorer.score(x.data(), n, y.empty() ? nullptr : y.data());
    });
    std::printf("%s\n%s\n", s.line().c_str(), s.json().dump().c_str());
    return 0;
  });
}
