// NcclComm on GPUs, one process each (run: mpirun -np 2 nccl_check; scripts/device-check.sh says when): the
// all-reduce and the broadcast on the CUDA policy's memory give every process the exact sums. Exits 77 (CTest:
// skipped) when there are fewer GPUs than processes, as on one GPU or none.
#include <cuda_runtime.h>

#include <cstdio>
#include <vector>

#include <unetflow/distributed/nccl.hpp>

using namespace unetflow;

int main(int argc, char** argv) {
  MpiComm mpi(&argc, &argv);
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess) devices = 0;
  if (devices < mpi.size()) {
    if (mpi.rank() == 0) std::printf("skipped: %d GPUs for %d processes (NcclComm needs one GPU per process)\n", devices, mpi.size());
    return 77;
  }
  try {
    NcclComm comm(mpi);
    const std::ptrdiff_t n = 1000003;  // not a multiple of any chunk size
    std::vector<float> host(static_cast<std::size_t>(n));
    for (std::ptrdiff_t i = 0; i < n; ++i) host[std::size_t(i)] = float((comm.rank() + 1) * (i % 7));
    float* data = cuda::allocate<float>(n);
    cuda::from_host(host.data(), data, n);
    comm.all_reduce_sum(data, n);
    cuda::to_host(data, host.data(), n);
    cuda::synchronize();
    const float ranks_sum = float(comm.size() * (comm.size() + 1) / 2);
    long wrong = 0;
    for (std::ptrdiff_t i = 0; i < n; ++i) wrong += host[std::size_t(i)] != ranks_sum * float(i % 7);
    for (std::ptrdiff_t i = 0; i < n; ++i) host[std::size_t(i)] = float(comm.rank() * 10 + i % 3);
    cuda::from_host(host.data(), data, n);
    comm.broadcast(data, n);
    cuda::to_host(data, host.data(), n);
    cuda::synchronize();
    for (std::ptrdiff_t i = 0; i < n; ++i) wrong += host[std::size_t(i)] != float(i % 3);
    cuda::deallocate(data);
    std::printf("rank %d of %d on %s: %ld wrong values after all-reduce and broadcast\n", comm.rank(), comm.size(),
                cuda::device_name().c_str(), wrong);
    return wrong == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nccl_check: %s\n", e.what());
    return 1;
  }
}
