// libFuzzer target: the safetensors reader and the checkpoint loader, with every kind of part a training
// checkpoint holds (weights, Adam's state, the schedule's counter, the trainer's progress and records).
#include <unetflow/unetflow.hpp>

#include "fuzz_file.hpp"

using namespace unetflow;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& path = fuzz::write_input("checkpoint", data, size);
  Linear<4, 3> model;
  Adam<cpu> adam(model);
  ExponentialLR<Adam<cpu>> schedule(adam, 0.5);
  TrainProgress progress;
  try {
    load_checkpoint(path, {{"model", "fuzz"}}, part("", model), part("optim.", adam), part("sched.", schedule),
                    part("progress.", progress));
    if (progress.epoch.value < 0 || progress.batch.value < 0 || progress.step.value < 0) std::abort();  // refused on load
  } catch (const Error&) {
  }
  return 0;
}
