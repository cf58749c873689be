// Data-parallel pieces that need no MPI: how a batch is split among processes, that a shard's random numbers are
// its rows of what one process draws for the whole batch, and the batch sizes a trainer refuses for a process
// count. (tests/distributed/dp_test.sh runs the trainer under mpirun.)
#include <doctest/doctest.h>

#include <unetflow/unetflow.hpp>

#include "test_util.hpp"

using namespace unetflow;

namespace {

// P processes as one (no communication): enough for what the trainer checks before it trains.
struct Processes {
  int count = 1;
  int rank() const { return 0; }
  int size() const { return count; }
  template <class T>
  void all_reduce_sum(T*, std::ptrdiff_t) {}
  template <class T>
  void broadcast(T*, std::ptrdiff_t) {}
  void abort(int) noexcept {}
};
static_assert(Communicator<Processes>);

struct Rank {
  int r, p;
  int rank() const { return r; }
  int size() const { return p; }
};

}  // namespace

TEST_CASE("data parallel: a batch is split into contiguous, nearly equal rows that cover it once") {
  for (int p = 1; p <= 5; ++p)
    for (int n : {5, 6, 7, 8, 256, 96}) {
      if (n < p) continue;
      int next = 0;
      for (int r = 0; r < p; ++r) {
        const BatchRows rows = rows_of(n, Rank{r, p});
        CAPTURE(n);
        CAPTURE(p);
        CHECK(rows.offset == next);
        CHECK(rows.total == n);
        CHECK(rows.n >= n / p);
        CHECK(rows.n <= n / p + 1);
        next += rows.n;
      }
      CHECK(next == n);
    }
  CHECK(rows_of(8, Rank{1, 3}).n == 3);  // 2, 3, 3
}

TEST_CASE("data parallel: a shard's random numbers are its rows of the whole batch's") {
  std::vector<float> staging, whole(6 * 5), part(2 * 5);
  Rng a(3, 1), b(3, 1);
  draw_normal_rows<cpu>(a, whole.data(), 6, 5, Shard{}, staging);
  draw_normal_rows<cpu>(b, part.data(), 2, 5, Shard{3, 6}, staging);
  CHECK(std::equal(part.begin(), part.end(), whole.begin() + 15));
  CHECK(a.normal() == b.normal());  // both streams moved on by the whole batch
  draw_uniform_rows<cpu>(a, whole.data(), 6, 1, Shard{}, staging);
  draw_uniform_rows<cpu>(b, part.data(), 2, 1, Shard{4, 6}, staging);
  CHECK(part[0] == whole[4]);
  CHECK(part[1] == whole[5]);
  // The default shard is the plain draw.
  std::vector<float> plain(30), rows(30);
  Rng c(8), d(8);
  draw_normal<cpu>(c, plain.data(), 30, staging);
  draw_normal_rows<cpu>(d, rows.data(), 6, 5, Shard{}, staging);
  CHECK(plain == rows);
}

TEST_CASE("data parallel: the trainer refuses batches that leave a process without rows") {
  using Net = UNet<1, 28, 28, 4>;
  auto set = test_util::constant_images(10);
  auto model = std::make_unique<Net>();
  DenoiseTask<Net> task(0.5, false);
  TrainOptions o;
  o.run_dir = test_util::temp_dir("dp_refuse");
  o.memory_limit_bytes = -1;
  Processes three{3};
  o.batch = 2;
  CHECK(test_util::error_of([&] { Trainer<Net, DenoiseTask<Net>, Processes>(*model, task, set, o, {}, three); }) ==
        "the batch (2) must hold at least one sample per process (3 processes).");
  o.batch = 4;  // 10 = 4 + 4 + 2: the last batch has 2 samples for 3 processes
  CHECK(test_util::error_of([&] { Trainer<Net, DenoiseTask<Net>, Processes>(*model, task, set, o, {}, three); }).find(
            "the last batch of an epoch holds 2 samples, fewer than the 3 processes") == 0);
  o.batch = 3;  // 3 + 3 + 3 + 1: refused too; 5 + 5 is fine
  CHECK(test_util::error_of([&] { Trainer<Net, DenoiseTask<Net>, Processes>(*model, task, set, o, {}, three); }) != "(no error)");
  o.batch = 5;
  CHECK(test_util::error_of([&] { Trainer<Net, DenoiseTask<Net>, Processes>(*model, task, set, o, {}, three); }) == "(no error)");
}
