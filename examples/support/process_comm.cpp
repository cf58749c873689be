#include "process_comm.hpp"

#include <cstdlib>
#include <memory>

#if defined(UNETFLOW_EXAMPLES_MPI)
#include <unetflow/distributed/mpi.hpp>
#endif

namespace examples {

namespace {
#if defined(UNETFLOW_EXAMPLES_MPI)
std::unique_ptr<unetflow::MpiComm> mpi;  // MPI_Finalize when the program ends
#endif
ProcessComm* created = nullptr;
}  // namespace

ProcessComm& process_comm(const TrainFlags& flags) {
  static ProcessComm comm;
  if (created) return comm;
#if defined(UNETFLOW_EXAMPLES_MPI)
  mpi = std::make_unique<unetflow::MpiComm>(
      nullptr, nullptr, unetflow::MpiOptions{.deterministic = flags.deterministic_reduce, .only_when_launched = true});
#else
  if (unetflow::launched_by_mpi())
    throw unetflow::Error(
        "this program was started by mpirun, but it was built without MPI: install libopenmpi-dev (scripts/setup.sh) "
        "and rebuild, or run it on its own.");
  (void)flags;
#endif
  created = &comm;
  return comm;
}

void abort_other_processes() noexcept {
  if (created && created->size() > 1) created->abort(1);
}

#if defined(UNETFLOW_EXAMPLES_MPI)
int ProcessComm::rank() const { return mpi->rank(); }
int ProcessComm::size() const { return mpi->size(); }
void ProcessComm::all_reduce_sum(float* data, std::ptrdiff_t n) { mpi->all_reduce_sum(data, n); }
void ProcessComm::broadcast(float* data, std::ptrdiff_t n) { mpi->broadcast(data, n); }
void ProcessComm::abort(int status) noexcept { mpi->abort(status); }
#else
int ProcessComm::rank() const { return 0; }
int ProcessComm::size() const { return 1; }
void ProcessComm::all_reduce_sum(float*, std::ptrdiff_t) {}
void ProcessComm::broadcast(float*, std::ptrdiff_t) {}
void ProcessComm::abort(int status) noexcept { std::_Exit(status); }
#endif

}  // namespace examples
