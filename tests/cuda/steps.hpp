#pragma once
// Training steps with Adam on both backends through a task (FlowMatchingTask, DenoiseTask), new inputs each step,
// the loss and every gradient and buffer compared after each step, and the recording statistics asserted.
//
// Every step starts from the same state: the CPU's model and Adam state are copied to the GPU before it (into the
// buffers already there, no allocation, so the GPU step is still recorded once and then replayed). Without the
// copy the sides drift apart by design, not by a bug: the bias of a convolution before BatchNorm has a gradient
// that is zero in exact arithmetic, both sides compute rounding noise of independent sign, and Adam turns noise of
// any size into a step of about lr (m / sqrt(v) -> +-1), so after one step such a bias differs by up to 2 lr, far
// beyond the per-step allowance of about 1e-5. The last step's result is compared with that 2 lr.
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mirror.hpp"

namespace mirror {

struct StepCase {
  int steps = 1;
  int n = 16;  // batch size
  double lr = 1e-3;
};

// Task<Model> is constructed from task_args on both sides; Net<B> is the model on backend B.
template <template <class> class Net, template <class> class Task, class... TaskArgs>
void check_training_steps(StepCase options, TaskArgs... task_args) {
  using Model = Net<cpu>;
  using ModelG = Net<cuda>;
  using In = typename Model::In;
  Rng init(11, 1);
  auto mc = std::make_unique<Model>();
  auto mg = std::make_unique<ModelG>();
  reset_parameters(*mc, init);
  copy_state(*mc, *mg);
  const double lr = options.lr;
  Adam<cpu> ac(*mc, {.lr = lr});
  Adam<cuda> ag(*mg, {.lr = lr});
  auto tc = std::make_unique<Task<Model>>(task_args...);
  auto tg = std::make_unique<Task<ModelG>>(task_args...);
  Rng data(11, 2), noise_c(11, 3), noise_g(11, 3);
  const int n = options.n;
  std::vector<std::uint8_t> labels(std::size_t(n), 0);
  Input<In> x1(n, data, 0, 1);  // allocated once: an allocation between steps would make every step eager
  for (int step = 0; step < options.steps; ++step) {
    CAPTURE(step);
    if (step > 0) {
      x1.draw(data, 0, 1);
      copy_state(*mc, *mg);
      copy_state(ac, ag);
    }
    for (auto& l : labels) l = std::uint8_t(data.below(10));
    ac.zero_grad();
    ag.zero_grad();
    const double lc = tc->step(*mc, x1.c.view(), labels.data(), noise_c);
    const double lg = tg->step(*mg, x1.g.view(), labels.data(), noise_g);
    INFO("loss cpu " << lc << ", cuda " << lg);
    CHECK(std::abs(lc - lg) <= tolerance() * std::abs(lc));
    expect_same_state(*mc, *mg, "step " + std::to_string(step));
    ac.step();
    ag.step();
  }
  // Step 1 ran eagerly, step 2 was recorded, the others replayed the recording (nothing allocates in between).
  const auto& graph = tg->graph().statistics();
  INFO("graph: " << graph.eager << " eager, " << graph.recorded << " recorded, " << graph.replayed << " replayed, "
                 << graph.failed << " failed recordings");
  CHECK(graph.failed == 0);
  if (std::getenv("UNETFLOW_CUDA_GRAPHS") == nullptr && options.steps >= 2) {
    CHECK(graph.recorded == 1);
    CHECK(graph.replayed == options.steps - 2);
  }
  // Parameters after the last Adam step, from the same state: up to lr either way on each side (see above).
  std::map<std::string, std::vector<float>> after;
  mc->visit("", [&](const std::string& name, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) after[name] = e.to_host();
  });
  mg->visit("", [&](const std::string& name, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) {
      const auto g = e.to_host();
      const auto& c = after.at(name);
      double worst = 0;
      for (std::size_t i = 0; i < c.size(); ++i) worst = std::max(worst, double(std::abs(c[i] - g[i])));
      INFO("parameter " << name << " after Adam: max difference " << worst);
      CHECK(worst <= 2 * lr + 1e-5);
    }
  });
}

}  // namespace mirror
