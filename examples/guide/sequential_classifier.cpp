// Your own model from the library's modules: a Sequential classifier, trained with Adam and cross-entropy on
// images it draws itself (a bright square in one of four quadrants, under noise), then evaluated, saved and
// loaded back. Exits with 1 unless the loss falls and the reloaded model gives the same answers.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include <unetflow/unetflow.hpp>

using namespace unetflow;

using Image = Shape<1, 16, 16>;
using Classifier = Sequential<DownConv<1, 8>,           // Conv2d(stride 2) + BatchNorm2d + GELU: 8x8x8
                              ToVector<>,               // nn.Flatten(): 512 features
                              Linear<8 * 8 * 8, 4>>;    // logits of the four classes

// n images and their labels: class k has a bright square in quadrant k.
void draw_batch(Tensor<Image, cpu>& x, std::vector<std::uint8_t>& labels, Rng& rng) {
  fill_normal(x, rng, 0.0, 1.0);
  labels.resize(std::size_t(x.n()));
  for (int s = 0; s < x.n(); ++s) {
    const int k = int(rng.below(4));
    labels[std::size_t(s)] = std::uint8_t(k);
    float* image = x.view().sample(s);
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c < 8; ++c) image[(r + 8 * (k / 2)) * 16 + c + 8 * (k % 2)] += 0.4f;
  }
}

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : ".";
  Classifier model;
  Rng rng(7);
  reset_parameters(model, rng);  // PyTorch's default initialisation, drawn from rng
  std::printf("%s", summary<Image>(model).c_str());

  Adam<cpu> adam(model, {.lr = 1e-2});
  Tensor<Image, cpu> x(32);
  Tensor<Vec<4>, cpu> grad(32);
  std::vector<std::uint8_t> labels;
  double first = 0, last = 0;
  for (int step = 0; step < 40; ++step) {
    draw_batch(x, labels, rng);
    auto logits = model.forward(x.view());
    const double loss = cross_entropy<cpu>(logits, labels.data(), grad.view());  // grad = dL/dlogits
    adam.zero_grad();
    model.backward(x.view(), grad.view(), View<Image, float>{});  // no dL/dx needed: an empty view
    adam.step();
    if (step == 0) first = loss;
    last = loss;
    if (step % 10 == 0 || step == 39) std::printf("step %2d  loss %.4f\n", step, loss);
  }

  // Evaluation: BatchNorm uses its running statistics inside the scope, and the mode comes back after it.
  Tensor<Image, cpu> test(200);
  draw_batch(test, labels, rng);
  std::vector<float> answers;
  {
    auto evaluation = eval_mode(model);
    answers = to_vector(model.forward(test.view()));  // the logits, copied to a std::vector
  }
  int correct = 0;
  for (int s = 0; s < 200; ++s) {
    const float* z = answers.data() + 4 * s;
    correct += int(std::max_element(z, z + 4) - z) == labels[std::size_t(s)];
  }
  std::printf("test accuracy %d / 200\n", correct);

  // The weights as safetensors with nn.Sequential's names ("0.0.weight", ...), and back into a fresh model.
  save_weights(dir / "classifier.safetensors", {{"model", "guide classifier"}}, model);
  Classifier reloaded;
  load_weights(dir / "classifier.safetensors", {{"model", "guide classifier"}}, reloaded);
  auto evaluation = eval_mode(reloaded);
  const auto again = to_vector(reloaded.forward(test.view()));
  const bool same = again == answers;
  std::printf("reloaded model: %s\n", same ? "same logits" : "DIFFERENT logits");
  return last < 0.5 * first && correct > 150 && same ? 0 : 1;
}
