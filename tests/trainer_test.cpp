// The training loop's promises: resuming gives bit-identical weights and loss log to an uninterrupted run
// (after a whole epoch and after Ctrl-C mid-epoch); a non-finite loss stops with one sentence and leaves the
// good checkpoint as it was; a run directory with a checkpoint is not overwritten without --resume.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unetflow/unetflow.hpp>

#include "test_util.hpp"

using namespace unetflow;
namespace fs = std::filesystem;

namespace {

using Tiny = UNet<1, 28, 28, 4>;

ImageSet tiny_set() { return test_util::noise_images(40, 99); }

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

// The task of Part 1 that asks the loop to stop (as Ctrl-C does) after a given number of steps of `trained` (the
// trainer's memory measurement also runs it, on a throwaway model: those steps do not count).
struct StoppingTask : DenoiseTask<Tiny> {
  int stop_after, steps = 0;
  const Tiny* trained;
  StoppingTask(int n, const Tiny* model) : DenoiseTask<Tiny>(0.5, false), stop_after(n), trained(model) {}
  double step(Tiny& m, View<Tiny::In, const float> x, const std::uint8_t* l, Rng& r) {
    if (&m == trained && ++steps == stop_after) Trainer<Tiny, StoppingTask>::request_stop();
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
    StoppingTask stopper(4, first.model.get());  // stops after the first step of epoch 2
    Trainer<Tiny, StoppingTask> t1(*first.model, stopper, set, options(stop_dir, 2), meta);
    CHECK(t1.run() == Trainer<Tiny, StoppingTask>::Outcome::interrupted);
    CHECK(t1.progress().epoch.value == 1);
    CHECK(t1.progress().batch.value == 1);
    Run second(3);
    StoppingTask never(-1, second.model.get());
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

namespace {
std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
// Rewrites one 64-bit integer entry of a checkpoint (its first element), as a damaged or hostile file would hold it.
void set_counter(const fs::path& checkpoint, const std::string& name, std::int64_t value) {
  auto file = safetensors::read(checkpoint);
  auto& bytes = file.tensors.at(name).bytes;
  REQUIRE(bytes.size() >= sizeof value);
  std::memcpy(bytes.data(), &value, sizeof value);
  safetensors::write(checkpoint, file);
}
}  // namespace

TEST_CASE("a run stopped between an epoch's checkpoint and its outputs completes them on resume, stray temporaries go") {
  const auto set = tiny_set();
  const auto dir = temp_dir("outputs");
  const Metadata meta{{"model", "Tiny"}};
  std::vector<int> first_calls, resumed_calls;
  Run run(1);
  DenoiseTask<Tiny> task(0.5, false);
  Trainer<Tiny, DenoiseTask<Tiny>>(*run.model, task, set, options(dir, 2), meta).run([&](int e) { first_calls.push_back(e); });
  CHECK(first_calls == std::vector<int>{1, 2});
  const std::string weights2 = file_bytes(dir / "model-epoch2.safetensors"), checkpoint = file_bytes(dir / "checkpoint.safetensors");
  // As if killed after epoch 2's checkpoint: its weights file and the figures after it are missing, a temporary remains.
  fs::remove(dir / "model-epoch2.safetensors");
  std::ofstream(dir / ("summary.json" + std::string(temporary_suffix))) << "{\"cut";
  std::ofstream(dir / "notes.tmp") << "a user's file, which no program of ours wrote";

  Run other(2);
  DenoiseTask<Tiny> task2(0.5, false);
  Trainer<Tiny, DenoiseTask<Tiny>> resumed(*other.model, task2, set, options(dir, 2, true), meta);
  CHECK(resumed.run([&](int e) { resumed_calls.push_back(e); }) == Trainer<Tiny, DenoiseTask<Tiny>>::Outcome::finished);
  CHECK(resumed_calls == std::vector<int>{2});  // epoch 2's outputs, once; no training
  CHECK(file_bytes(dir / "model-epoch2.safetensors") == weights2);
  CHECK(file_bytes(dir / "checkpoint.safetensors") == checkpoint);
  CHECK_FALSE(fs::exists(dir / ("summary.json" + std::string(temporary_suffix))));
  CHECK(file_bytes(dir / "notes.tmp") == "a user's file, which no program of ours wrote");  // only our temporaries go
  CHECK(weights(*other.model) == weights(*run.model));

  // With every output in place, a resume of the finished run does nothing again.
  resumed_calls.clear();
  Run third(3);
  Trainer<Tiny, DenoiseTask<Tiny>>(*third.model, task2, set, options(dir, 2, true), meta).run([&](int e) { resumed_calls.push_back(e); });
  CHECK(resumed_calls.empty());
  fs::remove_all(dir);
}

TEST_CASE("resume refuses a checkpoint whose counters are out of range, naming the file and the field") {
  const auto set = tiny_set();
  const auto dir = temp_dir("counters");
  const Metadata meta{{"model", "Tiny"}};
  Run run(1);
  DenoiseTask<Tiny> task(0.5, false);
  StoppingTask stopper(4, run.model.get());  // a checkpoint in the middle of epoch 2
  Trainer<Tiny, StoppingTask>(*run.model, stopper, set, options(dir, 2), meta).run();
  const auto path = dir / "checkpoint.safetensors";
  const std::string good = file_bytes(path);
  auto resume_error = [&] {
    Run other(2);
    try {
      Trainer<Tiny, DenoiseTask<Tiny>>(*other.model, task, set, options(dir, 3, true), meta).run();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  struct Case {
    const char* name;
    std::int64_t value;
    const char* message;
  };
  for (const Case& c : {Case{"progress.batch", -100000, "'progress.batch' is -100000, but a count cannot be negative"},
                        Case{"progress.epoch", -3, "'progress.epoch' is -3, but a count cannot be negative"},
                        Case{"progress.epoch", std::int64_t(1) << 62, "progress.epoch is 4611686018427387904 but progress.epoch_seconds holds 1 epoch times"},
                        Case{"progress.step", 1000, "progress.step is 1000 but progress.losses holds 4 losses"},
                        Case{"progress.batch", 7, "stopped at batch 7 of an epoch, but this run has 3 batches per epoch"},
                        Case{"optim.step", -1, "'optim.step' is -1, but a count cannot be negative"},
                        Case{"sched.last_epoch", -2, "'sched.last_epoch' is -2, but a count cannot be negative"},
                        // Counters of other parts that count the same epochs and steps must agree with progress.
                        Case{"sched.last_epoch", std::int64_t(1) << 62, "sched.last_epoch is 4611686018427387904 but progress.epoch is 1"},
                        Case{"optim.step", 5, "optim.step is 5 but progress.step is 4"}}) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << good;
    set_counter(path, c.name, c.value);
    const auto message = resume_error();
    INFO(c.name, " = ", c.value, ": ", message);
    CHECK(message.find(c.message) != std::string::npos);
    CHECK(message.find(path.string()) != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "model-epoch-2.safetensors"));
  }
  fs::remove_all(dir);
}

TEST_CASE("the memory of a training step is measured before a run, and a batch that cannot fit is refused") {
  const auto set = tiny_set();
  DenoiseTask<Tiny> task(0.5, false);
  // The estimate against a real step at batch 16 of a fresh model, measured with the same allocation count.
  const double before = double(cpu::allocated_bytes());
  const StepMemory m = measure_step_memory<Tiny>(task);
  auto model = std::make_unique<Tiny>();
  Adam<cpu> adam(*model);
  Tensor<Tiny::In, cpu> x(16);
  Rng fill(3);
  fill_uniform(x, fill);
  const std::vector<std::uint8_t> labels(16, 0);
  Rng rng(4);
  const double baseline = double(cpu::allocated_bytes());
  cpu::reset_peak();
  task.step(*model, View<Tiny::In, const float>(x), labels.data(), rng);
  adam.step();
  const double measured = double(cpu::peak_allocated_bytes()) - baseline, estimated = m.at(16) - before;
  INFO("step at batch 16: measured ", measured, " bytes, estimated ", estimated, " (", m.per_sample_bytes, " per sample)");
  CHECK(m.per_sample_bytes > 0);
  CHECK(estimated > 0.8 * measured);
  CHECK(estimated < 1.3 * measured);

  // A limit below what batch 16 needs: refused in one sentence before any file is written.
  const auto dir = temp_dir("memory");
  auto o = options(dir, 1);
  o.memory_limit_bytes = m.at(4);
  Run run(1);
  std::string message;
  try {
    Trainer<Tiny, DenoiseTask<Tiny>>(*run.model, task, set, o, {});
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK(message.find("a training step at batch 16 needs about") != std::string::npos);
  CHECK(message.find("use a batch of at most") != std::string::npos);
  CHECK_FALSE(fs::exists(dir));
  o.memory_limit_bytes = 2 * m.at(16) + 1e6;  // room enough
  CHECK_NOTHROW(Trainer<Tiny, DenoiseTask<Tiny>>(*run.model, task, set, o, {}));
}
