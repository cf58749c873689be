// The training loop's promises: resuming gives bit-identical weights and loss log to an uninterrupted run
// (after a whole epoch and after Ctrl-C mid-epoch); a non-finite loss stops with one sentence and leaves the
// good checkpoint as it was; a run directory with a checkpoint is not overwritten without --resume.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unetflow/unetflow.hpp>

#include "test_util.hpp"

using namespace unetflow;
namespace fs = std::filesystem;

namespace {

using Tiny = UNet<1, 28, 28, 4>;

ImageSet tiny_set() {
  ImageSet s;
  s.n = 40;
  s.height = s.width = 28;
  s.images.resize(40 * 784);
  s.labels.resize(40);
  Rng r(99);
  r.fill_uniform(s.images.data(), std::ptrdiff_t(s.images.size()));
  return s;
}

fs::path temp_dir(const std::string& name) {
  auto d = test_util::temp_dir("train_" + name);
  fs::remove_all(d);  // the trainer creates its run directory
  return d;
}

TrainOptions options(const fs::path& dir, int epochs, bool resume = false) {
  TrainOptions o;
  o.epochs = epochs;
  o.batch = 16;  // 3 batches per epoch, the last of 8
  o.lr = 1e-3;
  o.lr_gamma = 0.5;
  o.seed = 5;
  o.run_dir = dir;
  o.resume = resume;
  o.progress = false;
  return o;
}

std::vector<float> weights(Tiny& m) {
  std::vector<float> out;
  m.visit("", [&](const std::string&, auto& e) {
    using E = std::decay_t<decltype(e)>;
    if constexpr (is_instance_v<E, Param> || std::is_same_v<E, Buffer<cpu>>) {
      auto h = e.to_host();
      out.insert(out.end(), h.begin(), h.end());
    }
  });
  return out;
}

// The task of Part 1 that asks the loop to stop (as Ctrl-C does) after a given number of steps.
struct StoppingTask : DenoiseTask<Tiny> {
  int stop_after, steps = 0;
  explicit StoppingTask(int n) : DenoiseTask<Tiny>(0.5, false), stop_after(n) {}
  double step(Tiny& m, View<Tiny::In, const float> x, const std::uint8_t* l, Rng& r) {
    if (++steps == stop_after) Trainer<Tiny, StoppingTask>::request_stop();
    return DenoiseTask<Tiny>::step(m, x, l, r);
  }
};

struct Run {
  std::unique_ptr<Tiny> model = std::make_unique<Tiny>();
  explicit Run(std::uint64_t init_seed) {
    Rng r(init_seed);
    reset_parameters(*model, r);
  }
};

}  // namespace

TEST_CASE("resume is bit-identical to an uninterrupted run") {
  const auto set = tiny_set();
  const auto straight_dir = temp_dir("straight"), split_dir = temp_dir("split"), stop_dir = temp_dir("stop");
  const Metadata meta{{"model", "Tiny"}};

  Run straight(1);
  DenoiseTask<Tiny> task(0.5, false);
  Trainer<Tiny, DenoiseTask<Tiny>> t0(*straight.model, task, set, options(straight_dir, 2), meta);
  CHECK(t0.run() == Trainer<Tiny, DenoiseTask<Tiny>>::Outcome::finished);
  REQUIRE(t0.losses().size() == 6);

  SUBCASE("1 epoch, then resume for the second") {
    Run first(1);
    DenoiseTask<Tiny> task1(0.5, false);
    Trainer<Tiny, DenoiseTask<Tiny>>(*first.model, task1, set, options(split_dir, 1), meta).run();
    Run second(2);  // another initialisation: everything must come from the checkpoint
    DenoiseTask<Tiny> task2(0.5, false);
    Trainer<Tiny, DenoiseTask<Tiny>> t2(*second.model, task2, set, options(split_dir, 2, true), meta);
    t2.run();
    CHECK(weights(*second.model) == weights(*straight.model));
    CHECK(t2.losses() == t0.losses());
    CHECK(t2.optimizer().options.lr == t0.optimizer().options.lr);
    CHECK(fs::exists(split_dir / "model-epoch2.safetensors"));
  }
  SUBCASE("stopped mid-epoch (as by Ctrl-C), then resumed") {
    Run first(1);
    StoppingTask stopper(4);  // stops after the first step of epoch 2
    Trainer<Tiny, StoppingTask> t1(*first.model, stopper, set, options(stop_dir, 2), meta);
    CHECK(t1.run() == Trainer<Tiny, StoppingTask>::Outcome::interrupted);
    CHECK(t1.progress().epoch.value == 1);
    CHECK(t1.progress().batch.value == 1);
    Run second(3);
    StoppingTask never(-1);
    Trainer<Tiny, StoppingTask> t2(*second.model, never, set, options(stop_dir, 2, true), meta);
    CHECK(t2.run() == Trainer<Tiny, StoppingTask>::Outcome::finished);
    CHECK(weights(*second.model) == weights(*straight.model));
    CHECK(t2.losses() == t0.losses());
  }
  for (auto& d : {straight_dir, split_dir, stop_dir}) fs::remove_all(d);
}

TEST_CASE("a non-finite loss stops the run and keeps the last good checkpoint") {
  const auto set = tiny_set();
  const auto dir = temp_dir("nan");
  Run run(1);
  DenoiseTask<Tiny> good(0.5, false);
  Trainer<Tiny, DenoiseTask<Tiny>>(*run.model, good, set, options(dir, 1), {}).run();
  const auto read_all = [&] {
    std::ifstream f(dir / "checkpoint.safetensors", std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  const auto before = read_all();
  DenoiseTask<Tiny> bad(std::nan(""), false);
  Trainer<Tiny, DenoiseTask<Tiny>> t(*run.model, bad, set, options(dir, 2, true), {});
  std::string msg;
  try {
    t.run();
  } catch (const Error& e) {
    msg = e.what();
  }
  CHECK(msg.find("training stopped: the loss is nan at epoch 2, step 1") != std::string::npos);
  CHECK(msg.find("checkpoint.safetensors is untouched") != std::string::npos);
  CHECK(read_all() == before);
  fs::remove_all(dir);
}

TEST_CASE("a run directory with a checkpoint is continued only on request") {
  const auto set = tiny_set();
  const auto dir = temp_dir("exists");
  Run run(1);
  DenoiseTask<Tiny> task(0.5, false);
  Trainer<Tiny, DenoiseTask<Tiny>>(*run.model, task, set, options(dir, 1), {}).run();
  std::string msg;
  try {
    Trainer<Tiny, DenoiseTask<Tiny>>(*run.model, task, set, options(dir, 1), {}).run();
  } catch (const Error& e) {
    msg = e.what();
  }
  CHECK(msg.find("already holds a checkpoint: continue it with --resume") != std::string::npos);
  try {
    Trainer<Tiny, DenoiseTask<Tiny>>(*run.model, task, set, options(temp_dir("none"), 1, true), {}).run();
  } catch (const Error& e) {
    msg = e.what();
  }
  CHECK(msg.find("cannot resume") != std::string::npos);
  fs::remove_all(dir);
}
