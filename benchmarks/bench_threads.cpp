// How the OpenMP wait policy treats a training step and a sampling step, on an idle machine and beside other work
// (docs/performance.md, "Threads"). Plain output, one line per measurement:
//   OMP_WAIT_POLICY=passive bench_threads [repetitions]
// prints the policy in effect, then the median and the fastest of a D=32 TimeUNet flow-matching training step
// (batch 64, Adam) and of 5 Euler sampling steps (16 samples).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <unetflow/threads.hpp>
#include <unetflow/unetflow.hpp>

namespace {

using namespace unetflow;
using Model = TimeUNet<1, 28, 28, 32>;

template <class F>
void time_it(const char* what, int repetitions, F&& f) {
  f();  // warm-up: buffers reach their size
  std::vector<double> ms;
  for (int r = 0; r < repetitions; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%-26s median %8.1f ms   fastest %8.1f ms\n", what, ms[ms.size() / 2], ms.front());
}

}  // namespace

int main(int argc, char** argv) {
  const int repetitions = argc > 1 ? std::atoi(argv[1]) : 15;
  if (repetitions < 1) {
    std::fprintf(stderr, "bench_threads: the repetition count must be a positive integer.\n");
    return 2;
  }
  std::printf("threads %d, wait policy %s\n", threads(), wait_policy().c_str());
  auto model = std::make_unique<Model>();
  Rng rng(0);
  Adam<cpu> adam((reset_parameters(*model, rng), *model), {.lr = 1e-3});
  FlowMatchingTask<Model> task;
  Tensor<Model::In, cpu> x(64);
  fill_uniform(x, rng);
  std::vector<std::uint8_t> labels(64, 0);
  time_it("training step (batch 64)", repetitions, [&] {
    adam.zero_grad();
    task.step(*model, x.view(), labels.data(), rng);
    adam.step();
  });
  FlowSampler<Model> sampler;
  time_it("5 sampling steps (16)", repetitions, [&] { sampler.sample(*model, 16, 5, rng); });
}
