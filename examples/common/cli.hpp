#pragma once
// The small CLI layer every example shares (CLI11): data and run directories, presets, training flags, and the
// hidden width D, which is a compile-time constant of the model: programs are instantiated for a few widths.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unetflow/io/figures.hpp>
#include <unetflow/io/npy.hpp>
#include <unetflow/unetflow.hpp>
#if defined(UNETFLOW_HAS_CUDA)
#include <unetflow/backend/cuda.hpp>
#endif

namespace examples {

namespace fs = std::filesystem;
using namespace unetflow;

// --device cpu|cuda|auto (auto: the GPU when one is present).
inline void add_device_flag(CLI::App& app, std::string& device) {
  app.add_option("--device", device, "where to compute: cpu, cuda, or auto (the GPU when one is present)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
}

// Flags a training program takes; preset values apply to the flags the user did not give.
struct TrainFlags {
  std::string data = "data/mnist";
  std::string runs = "runs";
  std::string name;
  std::string preset = "full";
  std::string device = "auto";
  int epochs = 5, batch = 256, hidden = 128, steps_per_epoch = 0, eval_images = 10000, threads = 0;
  double lr = 1e-4;
  std::uint64_t seed = 0;
  bool resume = false, quiet = false;

  void add_to(CLI::App& app) {
    app.add_option("--data", data, "directory with the four MNIST IDX files (raw or .gz)")->capture_default_str();
    app.add_option("--runs", runs, "parent of the run directories")->capture_default_str();
    app.add_option("--name", name, "run name: outputs go to RUNS/NAME")->capture_default_str();
    app.add_option("--preset", preset, "full: the assignment's settings; quick: every file in minutes on a CPU")
        ->check(CLI::IsMember({"full", "quick"}))
        ->capture_default_str();
    app.add_option("--epochs", epochs, "training epochs")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--batch", batch, "batch size")->check(CLI::Range(1, 65536))->capture_default_str();
    app.add_option("--lr", lr, "Adam learning rate")->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--hidden", hidden, "hidden width D of the UNet (one of 16, 32, 64, 128)")
        ->check(CLI::IsMember({16, 32, 64, 128}))
        ->capture_default_str();
    app.add_option("--steps-per-epoch", steps_per_epoch, "limit each epoch to this many batches (0: the whole set)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--eval-images", eval_images, "test images used for the reported test MSE")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_option("--seed", seed, "seed of the initialisation, shuffling and noise streams")->capture_default_str();
    app.add_option("--threads", threads, "OpenMP threads (0: all cores)")->check(CLI::NonNegativeNumber);
    add_device_flag(app, device);
    app.add_flag("--resume", resume, "continue the run in RUNS/NAME from its newest checkpoint");
    app.add_flag("--quiet", quiet, "no progress line");
  }

  // Applies a preset's values to every flag the user left unset.
  void apply_preset(CLI::App& app, const TrainFlags& quick) {
    if (preset != "quick") return;
    auto unset = [&](const char* flag) { return app.get_option(flag)->count() == 0; };
    if (unset("--epochs")) epochs = quick.epochs;
    if (unset("--batch")) batch = quick.batch;
    if (unset("--hidden")) hidden = quick.hidden;
    if (unset("--steps-per-epoch")) steps_per_epoch = quick.steps_per_epoch;
    if (unset("--eval-images")) eval_images = quick.eval_images;
    if (unset("--lr")) lr = quick.lr;
  }

  fs::path run_dir() const { return fs::path(runs) / name; }

  TrainOptions train_options(double lr_gamma = 1.0) const {
    TrainOptions o;
    o.epochs = epochs;
    o.batch = batch;
    o.lr = lr;
    o.lr_gamma = lr_gamma;
    o.seed = seed;
    o.steps_per_epoch = steps_per_epoch;
    o.run_dir = run_dir();
    o.resume = resume;
    o.progress = !quiet;
    return o;
  }
  void apply_threads() const {
    if (threads > 0) omp_set_num_threads(threads);
  }
};

// Calls f.template operator()<B>() with the backend policy --device names.
template <class F>
decltype(auto) with_backend(const std::string& device, F&& f) {
#if defined(UNETFLOW_HAS_CUDA)
  if (device == "cuda" || (device == "auto" && cuda::available())) return f.template operator()<cuda>();
#else
  if (device == "cuda")
    throw Error("--device cuda: this build has no CUDA backend (configure with -DUNETFLOW_CUDA=ON where nvcc is installed).");
#endif
  return f.template operator()<cpu>();
}

// "cpu, 2 threads" or "cuda, NVIDIA H200" for summaries and progress.
template <class B>
std::string device_description() {
  if constexpr (B::host_accessible) return std::string(B::name) + ", " + std::to_string(omp_get_max_threads()) + " threads";
#if defined(UNETFLOW_HAS_CUDA)
  else return std::string(B::name) + ", " + cuda::device_name();
#endif
}

// Calls f.template operator()<D>() for the run-time width D (each supported width is a separate model type).
template <class F>
decltype(auto) with_hidden(int hidden, F&& f) {
  switch (hidden) {
    case 16: return f.template operator()<16>();
    case 32: return f.template operator()<32>();
    case 64: return f.template operator()<64>();
    case 128: return f.template operator()<128>();
  }
  throw Error("--hidden " + std::to_string(hidden) + " is not one of the widths built in: 16, 32, 64, 128.");
}

// Runs a program body, turning library errors into one line on stderr and exit status 1.
template <class F>
int guarded(F&& body) {
  try {
    return body();
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}

}  // namespace examples
