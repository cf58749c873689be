#pragma once
// The example programs' communicator (a Communicator, distributed/comm.hpp): the processes of `mpirun -np N program
// ...` when the programs were built with MPI, else this process alone. Only process_comm.cpp sees MPI's header.
//   process_comm(flags)        created on the first call (--deterministic-reduce chooses the reduction order);
//                              refuses a run under mpirun that this build cannot share out
//   abort_other_processes()    after an error on one process: ends the job, so the others do not wait forever
#include <cstddef>
#include <string>

#include "flags.hpp"

namespace examples {

class ProcessComm {
 public:
  int rank() const;
  int size() const;
  void all_reduce_sum(float* data, std::ptrdiff_t n);
  void broadcast(float* data, std::ptrdiff_t n);
  [[noreturn]] void abort(int status) noexcept;
};

ProcessComm& process_comm(const TrainFlags& flags);
// "mpirun -np N " under mpirun (what a resume command starts with), else nothing.
inline std::string resume_prefix(const ProcessComm& comm) {
  return comm.size() > 1 ? "mpirun -np " + std::to_string(comm.size()) + " " : "";
}
void abort_other_processes() noexcept;

// The communicator for a run on backend B: several processes only where MPI can reach B's memory (the host).
template <class B>
ProcessComm& process_comm_for(const TrainFlags& flags) {
  auto& comm = process_comm(flags);
  if constexpr (!B::host_accessible)
    if (comm.size() > 1)
      throw unetflow::Error(
          "--device " + flags.device +
          " under mpirun: the programs share a run out over MPI on the CPU only (see docs/distributed.md for NCCL).");
  return comm;
}

}  // namespace examples
