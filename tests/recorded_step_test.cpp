// The rule of a recorded step (backend/recorded_step.hpp, behind cuda::Graph) on a fake device: eager, recorded,
// replayed; and every way a recording can fail falls back to eager runs, undoing the failed attempt's host effects.
#include <doctest/doctest.h>

#include <stdexcept>
#include <unetflow/backend/recorded_step.hpp>
#include <unetflow/unetflow.hpp>

using namespace unetflow;

namespace {

// `error`: the CUDA runtime's last error, which a failed call leaves set until it is read (abort() reads it).
struct FakeState {
  std::uint64_t generation = 0;
  bool enabled = true, fail_begin = false, fail_end = false, capturing = false, error = false;
  int begins = 0, ends = 0, aborts = 0, launches = 0, discards = 0;
};
struct FakeDevice {
  FakeState* s = nullptr;
  std::uint64_t generation() const { return s->generation; }
  bool enabled() const { return s->enabled; }
  void begin() {
    ++s->begins;
    if (s->fail_begin) {
      s->error = true;
      throw std::runtime_error("cudaStreamBeginCapture failed");
    }
    s->capturing = true;
  }
  void end() {
    ++s->ends;
    s->capturing = false;
    if (s->fail_end) {
      s->error = true;
      throw std::runtime_error("cudaGraphInstantiate failed");
    }
  }
  void abort() noexcept {
    ++s->aborts;
    s->capturing = false;
    s->error = false;
  }
  void launch() { ++s->launches; }
  void discard() noexcept { ++s->discards; }
};

struct Counting {
  int host_runs = 0, snapshots = 0, undos = 0;
};

}  // namespace

TEST_CASE("recorded step: eager, then recorded, then replayed, and a new key or allocation starts over") {
  FakeState s;
  RecordedStep<FakeDevice> step(FakeDevice{&s});
  Counting c;
  auto f = [&] { ++c.host_runs; };
  auto snapshot = [&] {
    ++c.snapshots;
    return [&] { ++c.undos; };
  };
  CHECK(step.run({1, 2}, f, snapshot) == 1);  // eager
  CHECK(step.run({1, 2}, f, snapshot) == 1);  // recorded (host code runs while recording) and launched
  CHECK(step.run({1, 2}, f, snapshot) == 0);  // replayed
  CHECK(step.run({1, 2}, f, snapshot) == 0);
  CHECK(c.host_runs == 2);
  CHECK(s.launches == 3);
  CHECK(step.statistics().eager == 1);
  CHECK(step.statistics().recorded == 1);
  CHECK(step.statistics().replayed == 2);
  CHECK(step.run({1, 3}, f, snapshot) == 1);  // another key: the recording is dropped, eager again
  CHECK(s.discards == 1);
  CHECK(step.run({1, 3}, f, snapshot) == 1);  // recorded
  ++s.generation;                          // an allocation elsewhere: the recording's pointers may be stale
  CHECK(step.run({1, 3}, f, snapshot) == 1);  // eager, not a replay
  CHECK(step.statistics().replayed == 2);
  CHECK(c.undos == 0);
  CHECK(c.snapshots == 2);  // once per recording, not per step
  CHECK(step.statistics().failed == 0);
}

TEST_CASE("recorded step: a recording that fails in any way falls back to eager runs, once undone") {
  enum class Failure { step_throws, begin_fails, end_fails, step_allocates };
  for (Failure failure : {Failure::step_throws, Failure::begin_fails, Failure::end_fails, Failure::step_allocates}) {
    CAPTURE(int(failure));
    FakeState s;
    RecordedStep<FakeDevice> step(FakeDevice{&s});
    Counting c;
    bool throw_while_capturing = failure == Failure::step_throws;
    auto f = [&] {
      ++c.host_runs;
      // the first launch check of a step sees any error left behind (a failed begin or instantiation's)
      if (s.error) throw std::runtime_error("a stale error of the failed recording");
      if (s.capturing && throw_while_capturing) throw std::runtime_error("operation not permitted when stream is capturing");
      if (s.capturing && failure == Failure::step_allocates) ++s.generation;
    };
    auto snapshot = [&] {
      ++c.snapshots;
      return [&] { ++c.undos; };
    };
    s.fail_begin = failure == Failure::begin_fails;
    s.fail_end = failure == Failure::end_fails;
    CHECK(step.run({7}, f, snapshot) == 1);
    CHECK(step.run({7}, f, snapshot) == 2);  // the failed recording, then the eager run
    CHECK(c.undos == 1);
    CHECK(!s.capturing);                  // the capture was ended
    CHECK(!s.error);                      // and the error it left cleared before the eager run
    CHECK(step.disabled());
    CHECK(step.statistics().failed == 1);
    const int begins = s.begins;
    for (int i = 0; i < 3; ++i) CHECK(step.run({7}, f, snapshot) == 1);  // eager from now on, no new attempt
    CHECK(s.begins == begins);
    CHECK(c.snapshots == 1);
    CHECK(s.launches == 0);
    CHECK(step.statistics().eager == 5);
  }
}

TEST_CASE("recorded step: with recording off every run is eager, and an error of the step itself propagates") {
  FakeState s;
  s.enabled = false;
  RecordedStep<FakeDevice> step(FakeDevice{&s});
  int runs = 0;
  for (int i = 0; i < 3; ++i) CHECK(step.run({1}, [&] { ++runs; }) == 1);
  CHECK(runs == 3);
  CHECK(s.begins == 0);
  CHECK_THROWS_AS(step.run({1}, [] { throw std::runtime_error("shape"); }), std::runtime_error);
}

TEST_CASE("recorded step: a model's modes are part of its key") {
  // A step recorded in training mode must not be replayed in evaluation mode (BatchNorm uses other statistics).
  Sequential<Conv<3, 4>, Conv<4, 4>> m;
  const std::uintptr_t training = modes_key(m);
  CHECK(modes_key(m) == training);
  set_training(m, false);
  const std::uintptr_t evaluation = modes_key(m);
  CHECK(evaluation != training);
  m.get<1>().visit("", [](const std::string&, auto& e) {  // one block back in training mode
    if constexpr (std::is_same_v<std::decay_t<decltype(e)>, Mode>) e.training = true;
  });
  CHECK(modes_key(m) != evaluation);
  CHECK(modes_key(m) != training);
  {
    auto scope = eval_mode(m);
    CHECK(modes_key(m) == evaluation);
  }
  set_training(m, true);
  CHECK(modes_key(m) == training);
}
