#pragma once
// NcclComm: the processes of an MPI job, one GPU each, as a communicator (distributed/comm.hpp) over the CUDA policy's
// device memory: NCCL all-reduces on the policy's stream, bootstrapped over MPI as llm.c and Horovod do (rank 0's
// ncclUniqueId broadcast with MPI_Bcast, then ncclCommInitRank). Link unetflow::nccl.
//   MpiComm mpi(&argc, &argv);
//   NcclComm comm(mpi);      each process takes the GPU of its place on its machine (its local rank)
// Reductions follow NCCL's ring or tree for the machines' topology: the same bits every run on the same machines,
// which NCCL does not promise across topologies or versions.
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <string>

#include "../backend/cuda.hpp"
#include "../error.hpp"
#include "comm.hpp"
#include "mpi.hpp"

namespace unetflow {

class NcclComm {
 public:
  explicit NcclComm(MpiComm& mpi) : mpi_(mpi) {
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, mpi.rank(), MPI_INFO_NULL, &local) != MPI_SUCCESS)
      throw Error("NcclComm: MPI_Comm_split_type failed.");
    int local_rank = 0, devices = 0;
    MPI_Comm_rank(local, &local_rank);
    MPI_Comm_free(&local);
    check_cuda(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
    if (local_rank >= devices)
      throw Error("NcclComm: process " + std::to_string(local_rank) + " on this machine has no GPU of its own (" +
                  std::to_string(devices) + " GPUs): start at most one process per GPU.");
    check_cuda(cudaSetDevice(local_rank), "cudaSetDevice");
    ncclUniqueId id;
    if (mpi.rank() == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    if (MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
      throw Error("NcclComm: MPI_Bcast of the NCCL id failed.");
    check(ncclCommInitRank(&comm_, mpi.size(), id, mpi.rank()), "ncclCommInitRank");
  }
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;
  ~NcclComm() { ncclCommDestroy(comm_); }

  int rank() const { return mpi_.rank(); }
  int size() const { return mpi_.size(); }

  void all_reduce_sum(float* device_data, std::ptrdiff_t n) {
    check(ncclAllReduce(device_data, device_data, std::size_t(n), ncclFloat, ncclSum, comm_, stream()),
          "ncclAllReduce");
  }
  void broadcast(float* device_data, std::ptrdiff_t n) {
    check(ncclBroadcast(device_data, device_data, std::size_t(n), ncclFloat, 0, comm_, stream()), "ncclBroadcast");
  }
  [[noreturn]] void abort(int status) noexcept {
    ncclCommAbort(comm_);
    mpi_.abort(status);
  }

 private:
  static cudaStream_t stream() { return static_cast<cudaStream_t>(cuda::native_stream()); }
  static void check(ncclResult_t status, const char* call) {
    if (status != ncclSuccess) throw Error(std::string(call) + " failed: " + ncclGetErrorString(status) + ".");
  }
  static void check_cuda(cudaError_t status, const char* call) {
    if (status != cudaSuccess) throw Error(std::string(call) + " failed: " + cudaGetErrorString(status) + ".");
  }

  MpiComm& mpi_;
  ncclComm_t comm_ = nullptr;
};
static_assert(Communicator<NcclComm>);

}  // namespace unetflow
