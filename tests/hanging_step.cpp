// A training run for the stop rule's test (hostile_inputs_test.cpp): after two ordinary steps its third step either
// hangs (spins for ever, as a draw from a broken stream would) or takes a while and ends.
//   hanging_step hang|slow RUN_DIR
// It prints "in step 3" when the third step starts; the test then sends SIGTERM and times the exit.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <unetflow/unetflow.hpp>

#include "test_util.hpp"

using namespace unetflow;
using Tiny = UNet<1, 28, 28, 4>;

namespace {
struct ThirdStepTask : DenoiseTask<Tiny> {
  bool hang;
  const Tiny* trained;
  int steps = 0;
  ThirdStepTask(bool h, const Tiny* model) : DenoiseTask<Tiny>(0.5, false), hang(h), trained(model) {}
  double step(Tiny& m, View<Tiny::In, const float> x, const std::uint8_t* l, Rng& r) {
    if (&m == trained && ++steps == 3) {
      std::printf("in step 3\n");
      std::fflush(stdout);
      if (hang) {
        volatile bool forever = true;
        while (forever) {
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    return DenoiseTask<Tiny>::step(m, x, l, r);
  }
};
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const auto set = test_util::constant_images(64, 0.25f);
  TrainOptions o;
  o.epochs = 1;
  o.batch = 8;
  o.run_dir = argv[2];
  o.progress = false;
  auto model = std::make_unique<Tiny>();
  Rng init(1);
  reset_parameters(*model, init);
  ThirdStepTask task(std::strcmp(argv[1], "hang") == 0, model.get());
  Trainer<Tiny, ThirdStepTask> trainer(*model, task, set, o, {{"model", "Tiny"}});
  const auto outcome = trainer.run();
  std::printf("%s\n", outcome == decltype(trainer)::Outcome::interrupted ? "interrupted" : "finished");
  return outcome == decltype(trainer)::Outcome::interrupted ? 130 : 0;
}
