#pragma once
// What the example programs' runs share: flags.hpp plus the library, its .npy and figure writers, the TrainOptions
// and device description the runs derive from the flags, their run summaries, and the end of every training run.
#include <cstdint>
#include <string>
#include <unetflow/io/figures.hpp>
#include <unetflow/io/npy.hpp>
#include <unetflow/io/run_summary.hpp>
#include <unetflow/unetflow.hpp>
#include <vector>

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
  o.augmentation.horizontal_flip = flags.flip;
  return o;
}

// "cpu, 2 threads" or "cuda, NVIDIA H200" for summaries and progress.
template <class B>
std::string device_description() {
  if constexpr (B::host_accessible)
    return std::string(B::name) + ", " + std::to_string(omp_get_max_threads()) + " threads";
#if defined(UNETFLOW_HAS_CUDA)
  else
    return std::string(B::name) + ", " + cuda::device_name();
#endif
}

// A run's summary.json (io/run_summary.hpp), recording the commit the program was built from at every write.
class RunSummary : public unetflow::RunSummary {
 public:
  explicit RunSummary(fs::path dir, bool writes = true)
      : unetflow::RunSummary(std::move(dir), writes, build_commit()) {}
};

// The end of every training program's run: how it trained (summary "training") and its loss curve, every step's
// loss in <loss>.csv and the chart in <loss>.png with the epochs marked.
template <class Trainer>
void record_training(RunSummary& summary, Trainer& trainer, const TrainFlags& flags, const std::string& loss,
                     const std::string& chart_title) {
  const auto& prog = trainer.progress();
  summary["training"] = {{"steps", prog.step.value},
                         {"epochs_completed", prog.epoch.value},
                         {"epoch_seconds", prog.epoch_seconds.values},
                         {"final_loss", trainer.losses().empty() ? 0.0 : trainer.losses().back()},
                         {"processes", process_comm(flags).size()},
                         {"allreduce_seconds", trainer.reduce_seconds()}};
  std::vector<double> boundaries;
  for (std::int64_t e = 1; e < prog.epoch.value; ++e) boundaries.push_back(double(e * trainer.steps_per_epoch()));
  const int window =
      write_loss_csv(summary.file(loss + ".csv", "loss of every step: step, loss, moving average"), trainer.losses());
  write_loss_chart(summary.file(loss + ".png", "training loss curve"), flags.run_dir() / (loss + ".csv"), chart_title,
                   window, boundaries);
}

// An interrupted run: where its checkpoint is and the command that resumes it; the exit status (130).
template <class Trainer>
int resume_hint(const Trainer& trainer, const TrainFlags& flags, const std::string& command_line) {
  std::fprintf(stderr, "\ninterrupted: checkpoint written to %s.\nresume with: %s%s --resume\n",
               trainer.checkpoint_path().c_str(), resume_prefix(process_comm(flags)).c_str(), command_line.c_str());
  return 130;
}

}  // namespace examples
