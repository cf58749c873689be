#pragma once
// What the example programs' runs share: flags.hpp plus the library, its .npy and figure writers, and the TrainOptions
// and device description the runs derive from the flags.
#include <unetflow/io/figures.hpp>
#include <unetflow/io/npy.hpp>
#include <unetflow/unetflow.hpp>

#include "flags.hpp"
#include "process_comm.hpp"

namespace examples {

// The trainer's options from the flags (lr_gamma: the ExponentialLR factor per epoch, 1 for none).
inline TrainOptions train_options(const TrainFlags& flags, double lr_gamma = 1.0) {
  TrainOptions o;
  o.epochs = flags.epochs;
  o.batch = flags.batch;
  o.lr = flags.lr;
  o.lr_gamma = lr_gamma;
  o.seed = flags.seed;
  o.steps_per_epoch = flags.steps_per_epoch;
  o.run_dir = flags.run_dir();
  o.resume = flags.resume;
  o.progress = !flags.quiet;
  return o;
}

// "cpu, 2 threads" or "cuda, NVIDIA H200" for summaries and progress.
template <class B>
std::string device_description() {
  if constexpr (B::host_accessible) return std::string(B::name) + ", " + std::to_string(omp_get_max_threads()) + " threads";
#if defined(UNETFLOW_HAS_CUDA)
  else return std::string(B::name) + ", " + cuda::device_name();
#endif
}

}  // namespace examples
