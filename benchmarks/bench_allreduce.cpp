// The all-reduce of a data-parallel step alone (docs/distributed.md): MpiComm::all_reduce_sum of one flat float
// buffer, the size of a model's gradients, between processes that start together (a barrier before each call, so
// that no process's wait for a slower one is counted). Plain output, from rank 0.
//   mpirun -np 2 build/benchmarks/bench_allreduce [VALUES=1996419] [REPEATS=50] [--deterministic]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <unetflow/distributed/mpi.hpp>

int main(int argc, char** argv) {
  const long values = argc > 1 ? std::stol(argv[1]) : 1996419;
  const int repeats = argc > 2 ? std::stoi(argv[2]) : 50;
  const bool deterministic = argc > 3 && std::string(argv[3]) == "--deterministic";
  unetflow::MpiComm comm(&argc, &argv, {.deterministic = deterministic});
  std::vector<float> buffer(static_cast<std::size_t>(values), 1.0f);
  std::vector<double> seconds;
  for (int i = 0; i < repeats + 3; ++i) {
    comm.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    comm.all_reduce_sum(buffer.data(), values);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i >= 3) seconds.push_back(s);  // the first calls set up the transport
  }
  std::sort(seconds.begin(), seconds.end());
  if (comm.rank() == 0)
    std::printf("all-reduce of %ld floats (%.1f MB) on %d processes%s: median %.2f ms, fastest %.2f ms (%d calls)\n",
                values, values * 4e-6, comm.size(), deterministic ? ", deterministic" : "", seconds[seconds.size() / 2] * 1e3,
                seconds.front() * 1e3, repeats);
  return 0;
}
