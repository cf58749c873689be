#pragma once
// The training loop shared by every deliverable: shuffled batches, a task's objective, Adam, ExponentialLR
// per epoch, a progress line, and a checkpoint at the end of every epoch holding everything a resumed run
// needs to continue bit for bit (model, optimiser, schedule, the noise stream, loader position, loss log).
//   - run_dir/checkpoint.safetensors is the newest full state (replaced atomically);
//     run_dir/model-epoch<k>.safetensors the weights after epoch k (PyTorch state_dict names), written after the
//     epoch's other outputs (on_epoch_end): a run stopped between the checkpoint and it completes them on resume.
//   - Ctrl-C (or SIGTERM) finishes the current step, writes a checkpoint and returns Outcome::interrupted; a step
//     that does not end in time cannot hold the program (train/stop_request.hpp).
//   - One writer per run folder: the rank-0 trainer holds the folder's lock (io/folder_lock.hpp) from construction on.
//   - A loss that is not finite stops the run with an Error before any optimiser step or checkpoint write.
//   - A run directory that already holds a checkpoint is continued only when resume is asked for.
// Bit-identical resume holds for the same binary and thread count (the reductions' order depends on it).
// Data-parallel (Comm: distributed/comm.hpp, e.g. MpiComm under mpirun): every process starts from rank 0's weights,
// walks the same permutation and takes its rows of each batch (distributed/data_parallel.hpp), the gradients of the
// whole batch are formed with one all-reduce per step, and only rank 0 writes (checkpoints, epoch files, the progress
// line, on_epoch_end). Each process reads the checkpoint on resume, whatever the process count it was written with.
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../data/loader.hpp"
#include "../distributed/comm.hpp"
#include "../distributed/data_parallel.hpp"
#include "../io/checkpoint.hpp"
#include "../io/folder_lock.hpp"
#include "../optim/adam.hpp"
#include "../optim/batch_norm_statistics.hpp"
#include "../optim/exponential_lr.hpp"
#include "memory_estimate.hpp"
#include "progress.hpp"
#include "stop_request.hpp"
#include "train_options.hpp"
#include "train_progress.hpp"

namespace unetflow {

namespace detail {
// The communicator of a one-process trainer.
template <class Comm>
Comm& one_process() {
  static_assert(std::is_same_v<Comm, NoComm>, "Trainer: give the communicator of a data-parallel run");
  static NoComm comm;
  return comm;
}
}  // namespace detail

template <class Model, class Task, class Comm = NoComm>
class Trainer {
 public:
  using In = typename Model::In;
  using B = typename Model::backend;
  using T = typename B::scalar;
  enum class Outcome { finished, interrupted };

  Trainer(Model& model, Task& task, const ImageSet& train, TrainOptions options, Metadata metadata,
          Comm& comm = detail::one_process<Comm>())
      : model_(model),
        task_(task),
        options_(std::move(options)),
        metadata_(std::move(metadata)),
        comm_(comm),
        loader_(train, options_.batch, options_.seed),
        adam_(model, {.lr = options_.lr}),
        schedule_(adam_, options_.lr_gamma),
        noise_(options_.seed, 1),
        local_batch_((options_.batch + comm.size() - 1) / comm.size()),
        labels_(std::size_t(local_batch_)) {
    if (options_.ema_decay > 0)
      ema_.emplace(model, options_.ema_decay, options_.ema_statistics == EmaStatistics::averaged);
    if (ema_ && options_.ema_statistics == EmaStatistics::recomputed && !task_forwards)
      throw Error("recomputed EMA statistics need a task with forward(model, x, labels, rng); this one has none.");
    if (options_.statistics_batches < 1)
      throw Error("TrainOptions::statistics_batches is " + std::to_string(options_.statistics_batches) +
                  "; give at least one.");
    seed_streams(model, options_.seed);
    loader_.set_augmentation(options_.augmentation);
    check_images_fit<In>(train, "the training set");
    if (comm_.size() > 1) {
      if (!takes_shard)
        throw Error(
            "data-parallel training needs a task whose step takes the Shard of the batch it is given "
            "(distributed/comm.hpp); this one computes whole batches only.");
      check_batches_split(train.n);
      averager_.emplace(model, comm_);
      averager_->broadcast_state();
    }
    if constexpr (CountsAllocations<B>)
      if (options_.memory_limit_bytes >= 0)  // the batch buffers below: a host copy and the backend's
        check_step_fits(measure_step_memory<Model>(task_), local_batch_, train.n, 2.0 * In::size * sizeof(T),
                        options_.memory_limit_bytes);
    host_images_.resize(std::size_t(local_batch_) * In::size);
    images_.resize(local_batch_);
    if (writes_outputs()) lock_ = lock_folder(options_.run_dir);  // after the checks: a refused run creates no folder
  }

  std::filesystem::path checkpoint_path() const { return options_.run_dir / "checkpoint.safetensors"; }
  const TrainProgress& progress() const { return progress_; }
  const std::vector<double>& losses() const { return progress_.losses.values; }
  int steps_per_epoch() const {
    return options_.steps_per_epoch > 0 ? std::min(options_.steps_per_epoch, loader_.batches_per_epoch())
                                        : loader_.batches_per_epoch();
  }
  Adam<B>& optimizer() { return adam_; }
  // The weights to evaluate: the moving average when one is kept, else the model's own (written into `out`,
  // a second model of the same type), with the batch-norm statistics TrainOptions::ema_statistics names.
  void evaluation_weights(Model& out) { copy_state(ema_ ? averaged_model() : model_, out); }

  static void request_stop() { detail::stop_flag() = true; }  // what Ctrl-C does; also for tests
  // Seconds spent in the gradient all-reduce so far (0 for one process).
  double reduce_seconds() const { return averager_ ? averager_->reduce_seconds() : 0.0; }
  bool writes_outputs() const { return comm_.rank() == 0; }

  // Trains up to options.epochs; after each completed epoch (1-based) and its checkpoint calls on_epoch_end.
  template <class OnEpochEnd>
  Outcome run(OnEpochEnd&& on_epoch_end) {
    start_or_resume(on_epoch_end);
    // Ctrl-C, and SIGTERM (what mpirun sends its processes when it is interrupted), stop after the current step.
    StopOnSignal stop_signal(checkpoint_path());
    ProgressBar bar(options_.progress && writes_outputs());
    for (std::int64_t epoch = progress_.epoch.value; epoch < options_.epochs; ++epoch) {
      set_training(model_, true);
      const auto epoch_start = std::chrono::steady_clock::now();
      double seconds_per_step = 0;
      for (long b = progress_.batch.value; b < steps_per_epoch(); ++b)
        if (!train_step(epoch, b, stop_signal, bar, seconds_per_step)) {
          if (writes_outputs()) save();
          return Outcome::interrupted;
        }
      end_epoch(epoch, epoch_start, on_epoch_end);
    }
    set_training(model_, true);
    return Outcome::finished;
  }
  Outcome run() {
    return run([](int) {});
  }

 private:
  // A new run refuses a folder that holds a checkpoint; a resumed one loads it. A run stopped after an epoch's
  // checkpoint but before its outputs were all written (the weights file is last) completes them from the checkpoint's
  // state.
  template <class OnEpochEnd>
  void start_or_resume(OnEpochEnd& on_epoch_end) {
    if (writes_outputs()) std::filesystem::create_directories(options_.run_dir);
    if (options_.resume) {
      if (!std::filesystem::exists(checkpoint_path()))
        throw Error("cannot resume: " + checkpoint_path().string() +
                    " does not exist (start the run without --resume).");
      load();
    } else if (std::filesystem::exists(checkpoint_path())) {
      throw Error(options_.run_dir.string() +
                  " already holds a checkpoint: continue it with --resume, or give the run another name.");
    }
    if (writes_outputs()) {
      remove_temporaries_in(options_.run_dir);  // what a killed run left
      if (progress_.batch.value == 0 && progress_.epoch.value > 0 &&
          !std::filesystem::exists(epoch_weights_path(progress_.epoch.value)))
        finish_epoch(progress_.epoch.value, on_epoch_end);
    }
  }

  // Batch b of the epoch: the task's step, the all-reduce, Adam and the moving average, the progress line. Returns
  // false when a stop was asked for (by any process).
  bool train_step(std::int64_t epoch, long b, StopOnSignal& stop_signal, ProgressBar& bar, double& seconds_per_step) {
    const auto t0 = std::chrono::steady_clock::now();
    const long steps = steps_per_epoch();
    stop_signal.step_started();
    const BatchRows rows = rows_of(loader_.batch_rows(int(b)), comm_);
    loader_.fill(epoch, int(b), host_images_.data(), labels_.data(), rows.offset, rows.n);
    B::from_host(host_images_.data(), images_.data(), std::ptrdiff_t(rows.n) * In::size);
    adam_.zero_grad();
    double loss = task_step(View<In, const T>{images_.data(), rows.n}, rows.shard());
    bool stop = stop_signal.requested();
    if (averager_) {
      const auto global = averager_->average(double(rows.n) / rows.total, loss, stop);
      loss = global.loss;
      stop = global.stop;
    }
    if (!std::isfinite(loss))
      throw Error("training stopped: the loss is " + std::to_string(loss) + " at epoch " + std::to_string(epoch + 1) +
                  ", step " + std::to_string(b + 1) + " (learning rate too high?); " +
                  (std::filesystem::exists(checkpoint_path())
                       ? "the last good checkpoint " + checkpoint_path().string() + " is untouched."
                       : "no checkpoint was written."));
    adam_.step();
    if (ema_) ema_->update();
    progress_.losses.values.push_back(loss);
    progress_.batch.value = b + 1;
    ++progress_.step.value;
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    seconds_per_step = seconds_per_step == 0 ? dt : 0.9 * seconds_per_step + 0.1 * dt;
    stop_signal.step_ended(seconds_per_step);
    const long remaining = (steps - b - 1) + long(options_.epochs - epoch - 1) * steps;
    bar.update(long(epoch + 1), options_.epochs, b + 1, steps, loss, rows.total / dt, remaining, seconds_per_step);
    return !stop;
  }

  // The end of epoch `epoch` (0-based): its time, the schedule's step, the checkpoint and the epoch's outputs.
  template <class OnEpochEnd>
  void end_epoch(std::int64_t epoch, std::chrono::steady_clock::time_point start, OnEpochEnd& on_epoch_end) {
    progress_.epoch_seconds.values.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    progress_.epoch.value = epoch + 1;
    progress_.batch.value = 0;
    schedule_.step();
    if (writes_outputs()) {
      save();
      finish_epoch(epoch + 1, on_epoch_end);
    }
  }

  Metadata metadata() const {
    Metadata meta = metadata_;
    meta["epochs_completed"] = std::to_string(progress_.epoch.value);
    if (ema_) meta["ema_decay"] = std::to_string(ema_->decay());
    if (ema_ && options_.ema_statistics != EmaStatistics::running)
      meta["ema_statistics"] = ema_statistics_name(options_.ema_statistics);
    return meta;
  }
  // Calls f(parts...) with every part of the full training state.
  template <class F>
  void with_parts(F&& f) {
    if (ema_)
      f(part("", model_), part("optim.", adam_), part("sched.", schedule_), part("progress.", progress_),
        part("ema.", *ema_), part("streams.", streams_));
    else
      f(part("", model_), part("optim.", adam_), part("sched.", schedule_), part("progress.", progress_),
        part("streams.", streams_));
  }
  std::filesystem::path epoch_weights_path(std::int64_t epoch) const {
    return options_.run_dir / ("model-epoch" + std::to_string(epoch) + ".safetensors");
  }
  // The outputs of a completed epoch: the caller's (figures, scores), then the epoch's weights, which mark them done.
  template <class OnEpochEnd>
  void finish_epoch(std::int64_t epoch, OnEpochEnd& on_epoch_end) {
    on_epoch_end(int(epoch));
    save_weights(epoch_weights_path(epoch));
  }
  void save() {
    progress_.noise_rng = save_rng(noise_);
    with_parts([&](auto&&... parts) { save_checkpoint(checkpoint_path(), metadata(), parts...); });
  }
  void save_weights(const std::filesystem::path& path) {  // the weights to evaluate (evaluation_weights)
    save_checkpoint(path, metadata(), part("", ema_ ? averaged_model() : model_));
  }
  // The moving average's weights and statistics, made once per update: an epoch's outputs and weights file share them.
  Model& averaged_model() {
    if (!averaged_ || averaged_updates_ != ema_->updates()) {
      if (!averaged_) averaged_ = std::make_unique<Model>();
      copy_state(model_, *averaged_);
      ema_->copy_to(*averaged_);
      if (options_.ema_statistics == EmaStatistics::recomputed) recompute_statistics(*averaged_);
      averaged_updates_ = ema_->updates();
    }
    return *averaged_;
  }
  // The batch-norm statistics of `out` for its own weights, from the task's forward passes over the first batches
  // of epoch 1 (the loader's order: the same batches every time) and noise seeded apart from the training's.
  void recompute_statistics(Model& out) {
    if constexpr (task_forwards) {
      Rng rng(options_.seed, 7);
      std::vector<T> host(std::size_t(options_.batch) * In::size);
      std::vector<std::uint8_t> labels(std::size_t(options_.batch));
      Tensor<In, B> x;
      recompute_batch_norm_statistics(out, std::min(options_.statistics_batches, loader_.batches_per_epoch()),
                                      [&](int k) {
                                        auto v = x.resize(loader_.fill(0, k, host.data(), labels.data()));
                                        B::from_host(host.data(), v.data, v.numel());
                                        task_.forward(out, View<In, const T>(v), labels.data(), rng);
                                      });
    }
  }
  static void copy_state(Model& from, Model& to) {
    safetensors::File f;
    detail::add_part(f, part("", from));
    detail::load_part(f, part("", to));
  }
  void load() {
    Metadata expected;
    if (metadata_.count("model")) expected["model"] = metadata_.at("model");
    Metadata found;
    with_parts([&](auto&&... parts) { found = load_checkpoint(checkpoint_path(), expected, parts...); });
    const std::string statistics = found.count("ema_statistics") ? found.at("ema_statistics") : "running";
    if (ema_ && statistics != ema_statistics_name(options_.ema_statistics))
      throw Error("checkpoint " + checkpoint_path().string() + " was trained with EMA statistics '" + statistics +
                  "', not '" + ema_statistics_name(options_.ema_statistics) + "': resume it with the same choice.");
    schedule_.restore();
    restore_rng(noise_, progress_.noise_rng, checkpoint_path().string());
    check_resumed(progress_, checkpoint_path().string(), steps_per_epoch(), schedule_.last_epoch(), adam_.steps(),
                  ema_ ? std::optional<std::int64_t>(ema_->updates()) : std::nullopt);
  }

  static constexpr bool task_forwards = requires(Task & t, Model& m, View<In, const T> x, std::uint8_t* l, Rng& r) {
    t.forward(m, x, l, r);
  };
  // A task takes part in data-parallel training by taking a Shard; one without runs in one process.
  static constexpr bool takes_shard = requires(Task & t, Model& m, View<In, const T> x, std::uint8_t* l, Rng& r) {
    t.step(m, x, l, r, Shard{});
  };
  double task_step(View<In, const T> x, Shard shard) {
    if constexpr (takes_shard)
      return task_.step(model_, x, labels_.data(), noise_, shard);
    else
      return task_.step(model_, x, labels_.data(), noise_);
  }

  // Every process must get at least one row of every batch: the batch, and the last (smaller) batch of an epoch,
  // must hold at least one sample per process.
  void check_batches_split(int samples) const {
    const int processes = comm_.size(), last = samples % options_.batch;
    if (options_.batch < processes)
      throw Error("the batch (" + std::to_string(options_.batch) + ") must hold at least one sample per process (" +
                  std::to_string(processes) + " processes).");
    if (last != 0 && last < processes &&
        (options_.steps_per_epoch <= 0 || options_.steps_per_epoch >= loader_.batches_per_epoch()))
      throw Error("the last batch of an epoch holds " + std::to_string(last) + " samples, fewer than the " +
                  std::to_string(processes) +
                  " processes: choose a batch size for which it holds none or at least one per process.");
  }

  Model& model_;
  StreamsOf<Model> streams_{model_};  // dropout's random streams, seeded from options.seed, checkpointed
  Task& task_;
  TrainOptions options_;
  Metadata metadata_;
  Comm& comm_;
  ShuffledLoader loader_;
  Adam<B> adam_;
  ExponentialLR<Adam<B>> schedule_;
  Rng noise_;
  int local_batch_;
  std::optional<Ema<B>> ema_;
  std::unique_ptr<Model> averaged_;     // averaged_model()'s
  std::int64_t averaged_updates_ = -1;  // the average's update count when averaged_ was made
  std::optional<GradientAverager<B, Comm>> averager_;
  std::shared_ptr<FolderLock> lock_;  // rank 0's: held for the trainer's life
  TrainProgress progress_;
  std::vector<T> host_images_;
  Tensor<In, B> images_;
  std::vector<std::uint8_t> labels_;
};

}  // namespace unetflow
