// Flow matching with the library's task and sampler (docs/models.md, Part 2): a small time-conditioned UNet trains
// on images it draws itself, then samples in evaluation mode, on a thread count given on the command line.
//   flow_matching [threads]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <unetflow/threads.hpp>
#include <unetflow/unetflow.hpp>

using namespace unetflow;

using Model = TimeUNet<1, 28, 28, /*D=*/8>;

int run(int argc, char** argv) {
  if (argc > 1) set_threads(std::atoi(argv[1]));  // unetflow::Error unless it is at least 1
  std::printf("%d threads, wait policy %s\n", threads(), wait_policy().c_str());

  Model model;
  Rng rng(3);
  reset_parameters(model, rng);
  Adam<cpu> adam(model, {.lr = 1e-2});
  FlowMatchingTask<Model> task;  // draws x0 ~ N(0, I) and t ~ U[0, 1] from the rng it is given

  // Data: a bright 14x14 square somewhere on a dark background.
  Tensor<Model::In, cpu> x1(32);
  std::vector<std::uint8_t> labels(32, 0);  // a time-only model ignores them
  double first = 0, last = 0;
  for (int step = 0; step < 100; ++step) {
    cpu::fill(x1.data(), x1.numel(), 0.f);
    for (int s = 0; s < x1.n(); ++s) {
      const int r0 = int(rng.below(15)), c0 = int(rng.below(15));
      for (int r = r0; r < r0 + 14; ++r)
        for (int c = c0; c < c0 + 14; ++c) x1.view().sample(s)[r * 28 + c] = 1.f;
    }
    adam.zero_grad();
    const double loss = task.step(model, x1.view(), labels.data(), rng);  // forward, loss, backward
    adam.step();
    if (step == 0) first = loss;
    last = loss;
  }
  std::printf("flow-matching loss %.3f -> %.3f\n", first, last);

  FlowSampler<Model> sampler;  // evaluation mode while it samples; the model's modes come back afterwards
  auto samples = sampler.sample(model, 4, /*steps=*/10, rng);
  double mean = 0;
  for (float v : to_vector(samples)) mean += v;
  mean /= double(samples.numel());
  std::printf("4 samples, mean pixel %.3f (the data's is %.3f)\n", mean, 196.0 / 784.0);
  return last < 0.5 * first && std::abs(mean - 0.25) < 0.15 ? 0 : 1;  // it learned something
}

int main(int argc, char** argv) {
  use_wait_policy(argv);  // idle threads sleep between kernels (see "Threads"); restarts once if it must
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // unetflow::Error: one sentence that names the problem
    std::fprintf(stderr, "flow_matching: %s\n", e.what());
    return 2;
  }
}
