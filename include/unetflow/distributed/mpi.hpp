#pragma once
// MpiComm: the processes of an `mpirun -np N` job as a communicator (distributed/comm.hpp), for host memory (the CPU
// backend). Link unetflow::mpi (CMake: find_package(MPI)); nothing else in unetflow includes <mpi.h>.
//   MpiComm comm(&argc, &argv);                   MPI_Init_thread with MPI_THREAD_FUNNELED: OpenMP threads keep
//                                                 working inside each process, only the main thread calls MPI
//   MpiComm comm(&argc, &argv, {.deterministic = true})   sums in rank order (see below)
//   MpiComm comm(nullptr, nullptr, {.only_when_launched = true})   MPI only when mpirun (or srun) started the
//                                                 process (launched_by_mpi()); otherwise one process, no MPI call
// Reductions. By default all_reduce_sum is MPI_Allreduce: the MPI standard gives every process the same result
// but does not fix the order in which the processes' values are added, so a run on N > 2 processes may differ in
// the last bits from another run of the same job (Open MPI picks its algorithm by message size and process
// count). Deterministic mode gathers every process's buffer (MPI_Allgather) and adds them in rank order on each
// process: the same bits every run, at the cost of N buffers of memory and N times the traffic.
#include <mpi.h>

#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "../error.hpp"
#include "comm.hpp"

namespace unetflow {

struct MpiOptions {
  bool deterministic = false;       // sums in rank order (see above)
  bool only_when_launched = false;  // one process without MPI unless a launcher started this one
};

class MpiComm {
 public:
  MpiComm(int* argc, char*** argv, MpiOptions options = {}) : options_(options) {
    if (options.only_when_launched && !launched_by_mpi()) return;
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      int provided = 0;
      check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owns_ = true;
      if (provided < MPI_THREAD_FUNNELED)
        throw Error("MPI provides thread level " + std::to_string(provided) +
                    ", below MPI_THREAD_FUNNELED, which OpenMP inside each process needs.");
    }
    active_ = true;
    check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  }
  MpiComm(const MpiComm&) = delete;
  MpiComm& operator=(const MpiComm&) = delete;
  ~MpiComm() {
    if (owns_) MPI_Finalize();
  }

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool deterministic() const { return options_.deterministic; }

  template <class T>
  void all_reduce_sum(T* data, std::ptrdiff_t n) {
    if (size_ == 1) return;
    const int count = checked_count(n);
    if (!options_.deterministic) {
      check(MPI_Allreduce(MPI_IN_PLACE, data, count, type<T>(), MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
      return;
    }
    auto& all = gathered<T>();
    all.resize(std::size_t(n) * std::size_t(size_));
    check(MPI_Allgather(data, count, type<T>(), all.data(), count, type<T>(), MPI_COMM_WORLD), "MPI_Allgather");
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      T sum = all[std::size_t(i)];
      for (int r = 1; r < size_; ++r) sum += all[std::size_t(r) * std::size_t(n) + std::size_t(i)];
      data[i] = sum;
    }
  }
  template <class T>
  void broadcast(T* data, std::ptrdiff_t n) {
    if (size_ == 1) return;
    check(MPI_Bcast(data, checked_count(n), type<T>(), 0, MPI_COMM_WORLD), "MPI_Bcast");
  }
  // Waits for every process.
  void barrier() {
    if (size_ > 1) check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
  }
  [[noreturn]] void abort(int status) noexcept {
    if (active_) MPI_Abort(MPI_COMM_WORLD, status);
    std::_Exit(status);
  }

 private:
  template <class T>
  static MPI_Datatype type() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "MpiComm: float or double buffers");
    return std::is_same_v<T, float> ? MPI_FLOAT : MPI_DOUBLE;
  }
  template <class T>
  std::vector<T>& gathered() {
    if constexpr (std::is_same_v<T, float>)
      return gathered_float_;
    else
      return gathered_double_;
  }
  static int checked_count(std::ptrdiff_t n) {
    if (n < 0 || n > std::numeric_limits<int>::max())
      throw Error("MpiComm: " + std::to_string(n) + " values do not fit in one MPI message (at most 2^31 - 1).");
    return int(n);
  }
  static void check(int status, const char* call) {
    if (status == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(status, text, &length);
    throw Error(std::string(call) + " failed: " + std::string(text, std::size_t(length)) + ".");
  }

  MpiOptions options_;
  bool owns_ = false, active_ = false;
  int rank_ = 0, size_ = 1;
  std::vector<float> gathered_float_;
  std::vector<double> gathered_double_;
};
static_assert(Communicator<MpiComm>);

}  // namespace unetflow
