// PyTorch's MNIST network from the library's standard layers: Conv2d-ReLU-Conv2d-ReLU-MaxPool2d-Dropout-Flatten-
// Linear-ReLU-Dropout-Linear-LogSoftmax, trained with nll_loss, Adadelta and StepLR (with gradient clipping for
// good measure) on images it draws itself (a bright square in one of four quadrants, under noise). Exits with 1
// unless the loss falls and the evaluation-mode accuracy is high.
#include <algorithm>
#include <cstdio>
#include <vector>

#include <unetflow/unetflow.hpp>

using namespace unetflow;

using Image = Shape<1, 16, 16>;
using Net = Sequential<Conv2d<1, 8, 3, 1, 0>, ReLU<>,    // 8 x 14 x 14
                       Conv2d<8, 16, 3, 1, 0>, ReLU<>,   // 16 x 12 x 12
                       MaxPool2d<2>, Dropout<>,          // 16 x 6 x 6
                       ToVector<>, Linear<16 * 6 * 6, 32>, ReLU<>, Dropout<>,
                       Linear<32, 4>, LogSoftmax<>>;     // log-probabilities of the four classes

void draw_batch(Tensor<Image, cpu>& x, std::vector<std::uint8_t>& labels, Rng& rng) {
  fill_normal(x, rng, 0.0, 1.0);
  labels.resize(std::size_t(x.n()));
  for (int s = 0; s < x.n(); ++s) {
    const int k = int(rng.below(4));
    labels[std::size_t(s)] = std::uint8_t(k);
    float* image = x.view().sample(s);
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c < 8; ++c) image[(r + 8 * (k / 2)) * 16 + c + 8 * (k % 2)] += 0.5f;
  }
}

int main() {
  Net model;
  Rng rng(3);
  reset_parameters(model, rng);
  seed_streams(model, 3);           // the dropout masks' random streams
  model.get<5>().set_p(0.25);       // nn.Dropout(0.25); the second keeps its default 0.5
  std::printf("%s", summary<Image>(model).c_str());

  Adadelta<cpu> opt(model, {.lr = 1.0});
  StepLR<Adadelta<cpu>> schedule(opt, 10, 0.7);  // the learning rate times 0.7 every 10 steps here
  Tensor<Image, cpu> x(32);
  Tensor<Vec<4>, cpu> grad(32);
  std::vector<std::uint8_t> labels;
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    draw_batch(x, labels, rng);
    auto log_probs = model.forward(x.view());
    const double loss = nll_loss<cpu>(log_probs, labels, grad.view());
    opt.zero_grad();
    model.backward(x.view(), grad.view(), View<Image, float>{});
    const double norm = clip_grad_norm(model, 5.0);
    opt.step();
    schedule.step();
    if (step == 0) first = loss;
    last = loss;
    if (step % 20 == 0 || step == 59)
      std::printf("step %2d  loss %.4f  gradient norm %.3f  lr %.3f\n", step, loss, norm, schedule.lr());
  }

  Tensor<Image, cpu> test(200);
  draw_batch(test, labels, rng);
  auto evaluation = eval_mode(model);  // dropout off
  const auto answers = to_vector(model.forward(test.view()));
  int correct = 0;
  for (int s = 0; s < 200; ++s) {
    const float* z = answers.data() + 4 * s;
    correct += int(std::max_element(z, z + 4) - z) == labels[std::size_t(s)];
  }
  std::printf("test accuracy %d / 200\n", correct);
  return last < 0.5 * first && correct > 150 ? 0 : 1;
}
