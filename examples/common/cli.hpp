#pragma once
// The CLI layer of the example programs (CLI11): --device and the training flags. Only the sources that parse flags
// include it; the runs they call include programs.hpp.
#include <CLI/CLI.hpp>

#include <cmath>
#include <string>

#include "flags.hpp"

namespace examples {

// Value checks CLI11 lacks: a finite number (CLI11's ranges let "nan" through), a positive finite one, and a
// run name that stays inside --runs.
inline const CLI::Validator finite_number(
    [](std::string& v) -> std::string {
      double d = 0;
      try {
        std::size_t used = 0;
        d = std::stod(v, &used);
        if (used != v.size()) return "'" + v + "' is not a number";
      } catch (const std::exception&) {
        return "'" + v + "' is not a number";
      }
      return std::isfinite(d) ? "" : "'" + v + "' is not a finite number";
    },
    "FINITE");
inline const CLI::Validator positive_number(
    [](std::string& v) -> std::string {
      std::string copy = v;
      if (auto e = finite_number(copy); !e.empty()) return e;
      return std::stod(v) > 0 ? "" : "'" + v + "' is not positive";
    },
    "POSITIVE");
inline const CLI::Validator plain_name(
    [](std::string& v) -> std::string {
      if (v.empty() || v == "." || v == ".." || v.find('/') != std::string::npos)
        return "'" + v + "' is not a plain folder name (not empty, no '/', not '.' or '..')";
      return "";
    },
    "NAME");

// --device cpu|cuda|auto (auto: the GPU when one is present).
inline void add_device_flag(CLI::App& app, std::string& device) {
  app.add_option("--device", device, "where to compute: cpu, cuda, or auto (the GPU when one is present)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
}

// --threads N (0: OpenMP's choice, OMP_NUM_THREADS or every core).
inline void add_threads_flag(CLI::App& app, int& threads) {
  app.add_option("--threads", threads, "threads for the CPU kernels (0: OMP_NUM_THREADS, else every core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

// --solver euler|midpoint|heun|rk4 (flow/ode.hpp).
inline void add_solver_flag(CLI::App& app, std::string& solver) {
  app.add_option("--solver", solver, "ODE solver of sampling: euler (the assignment's), midpoint, heun or rk4")
      ->check(CLI::IsMember({"euler", "midpoint", "heun", "rk4"}))
      ->capture_default_str();
}

inline void TrainFlags::add_to(CLI::App& app) {
  app.add_option("--data", data, "data set folder: MNIST-format IDX files (raw or .gz), CIFAR-10 binary batches, or "
                                 "train/ and test/ folders of class sub-folders")->capture_default_str();
  app.add_option("--runs", runs, "parent of the run directories")->capture_default_str();
  app.add_option("--name", name, "run name: outputs go to RUNS/NAME")->check(plain_name)->capture_default_str();
  app.add_option("--preset", preset, "full: the assignment's settings; quick: every file in minutes on a CPU")
      ->check(CLI::IsMember({"full", "quick"}))
      ->capture_default_str();
  app.add_option("--epochs", epochs, "training epochs")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--batch", batch, "batch size")->check(CLI::Range(1, 65536))->capture_default_str();
  app.add_option("--lr", lr, "Adam learning rate")->check(positive_number)->capture_default_str();
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
  add_threads_flag(app, threads);
  add_device_flag(app, device);
  app.add_flag("--resume", resume, "continue the run in RUNS/NAME from its newest checkpoint");
  app.add_flag("--quiet", quiet, "no progress line");
  app.add_flag("--deterministic-reduce", deterministic_reduce,
               "under mpirun: add the processes' gradients in rank order, so that a run repeats its bits");
}

// Applies a preset's values to every flag the user left unset.
inline void TrainFlags::apply_preset(CLI::App& app, const TrainFlags& quick) {
  if (preset != "quick") return;
  auto unset = [&](const char* flag) { return app.get_option(flag)->count() == 0; };
  if (unset("--epochs")) epochs = quick.epochs;
  if (unset("--batch")) batch = quick.batch;
  if (unset("--hidden")) hidden = quick.hidden;
  if (unset("--steps-per-epoch")) steps_per_epoch = quick.steps_per_epoch;
  if (unset("--eval-images")) eval_images = quick.eval_images;
  if (unset("--lr")) lr = quick.lr;
}

}  // namespace examples
