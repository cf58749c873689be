#pragma once
// Communication between the processes of a data-parallel run, as a policy (like a backend). A communicator is
// a type with
//   int rank() const, int size() const        this process's place among size() processes
//   void all_reduce_sum(T* data, std::ptrdiff_t n)   in place: every process ends with the same sum of all the
//                                              processes' data (T* is the backend's memory; an MPI communicator
//                                              needs host memory, NCCL's device memory)
//   void broadcast(T* data, std::ptrdiff_t n)   rank 0's data to every process
//   void abort(int status) noexcept            ends every process (an error on one would leave the others waiting)
// NoComm is one process: it costs nothing and pulls in no MPI header. distributed/mpi.hpp has MpiComm,
// distributed/nccl.hpp NcclComm; data_parallel.hpp uses them to average gradients.
#include <concepts>
#include <cstddef>
#include <cstdlib>
#include <initializer_list>

namespace unetflow {

template <class C>
concept Communicator = requires(C c, const C cc, float* data, std::ptrdiff_t n) {
  { cc.rank() } -> std::convertible_to<int>;
  { cc.size() } -> std::convertible_to<int>;
  c.all_reduce_sum(data, n);
  c.broadcast(data, n);
  c.abort(1);
};

// Whether an MPI launcher (Open MPI's mpirun, or a PMI-based one such as Slurm's srun) started this process.
inline bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(name)) return true;
  return false;
}

struct NoComm {
  int rank() const { return 0; }
  int size() const { return 1; }
  template <class T>
  void all_reduce_sum(T*, std::ptrdiff_t) {}
  template <class T>
  void broadcast(T*, std::ptrdiff_t) {}
  [[noreturn]] void abort(int status) noexcept { std::exit(status); }
};
static_assert(Communicator<NoComm>);

// Rows [offset, offset + n) of a global batch of `total` samples: the part one process computes. A task draws
// its random numbers for the whole global batch and keeps its rows, so that N processes draw exactly what one
// would. The default is the whole batch (total 0: as many as the process has).
struct Shard {
  int offset = 0;
  int total = 0;
  int total_or(int n) const { return total > 0 ? total : n; }
};

}  // namespace unetflow
