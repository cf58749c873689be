#pragma once
// The CLI layer of the example programs (CLI11): --device and the training flags. Only the sources that parse flags
// include it; the runs they call include programs.hpp.
#include <CLI/CLI.hpp>

#include <algorithm>
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
// Run names become folder names in messages, summaries and the website: letters, digits, '.', '_', '-' and '+',
// not starting with '.' or '-', at most 100 characters (no newline, no '/', nothing a shell or a page would read).
inline const CLI::Validator plain_name(
    [](std::string& v) -> std::string {
      const bool safe = std::all_of(v.begin(), v.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-' || c == '+';
      });
      if (v.empty() || v.size() > 100 || !safe || v[0] == '.' || v[0] == '-') {
        std::string shown;
        for (char c : v.substr(0, 40)) shown += (c >= 32 && c < 127) ? std::string(1, c) : "?";
        return "'" + shown +
               "' is not a plain folder name (1-100 of the letters a-z A-Z, digits and . _ - +, not starting with . or "
               "-)";
      }
      return "";
    },
    "NAME");
// A whole number that is not negative, for unsigned flags (CLI11 would read -1 as 2^64 - 1).
inline const CLI::Validator not_negative_text(
    [](std::string& v) -> std::string {
      const auto first = v.find_first_not_of(" \t");
      return first != std::string::npos && v[first] == '-' ? "'" + v + "' is negative; give a whole number from 0" : "";
    },
    "NOT NEGATIVE");

// Every floating-point flag refuses NaN and infinity, and every unsigned one a negative number, whatever checks
// its own line adds: called on each program's App (and its subcommands) once all options are added, before parsing.
inline void check_number_flags(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    const std::string type = option->get_type_name();
    if (type.rfind("FLOAT", 0) == 0) option->check(finite_number);
    if (type.rfind("UINT", 0) == 0) option->check(not_negative_text);
  }
  for (CLI::App* sub : app.get_subcommands({})) check_number_flags(*sub);
}

// --device cpu|cuda|auto (auto: the GPU when one is present).
inline void add_device_flag(CLI::App& app, std::string& device) {
  app.add_option("--device", device, "where to compute: cpu, cuda, or auto (the GPU when one is present)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
}

// --threads N (0: OpenMP's choice, OMP_NUM_THREADS or every core), at most four per core (threads.hpp).
inline void add_threads_flag(CLI::App& app, int& threads) {
  const CLI::Validator bounded(
      [](std::string& v) -> std::string {
        try {
          std::size_t used = 0;
          const long long n = std::stoll(v, &used);
          if (used == v.size() && n >= 0 && n <= max_threads()) return "";
          if (used == v.size() && n > max_threads())
            return "'" + v + "' is more than the " + std::to_string(max_threads()) +
                   " threads allowed here (four per core on " + std::to_string(omp_get_num_procs()) + " cores)";
        } catch (const std::exception&) {
        }
        return "'" + v + "' is not a thread count from 0 to " + std::to_string(max_threads());
      },
      "0-" + std::to_string(max_threads()));
  app.add_option("--threads", threads, "threads for the CPU kernels (0: OMP_NUM_THREADS, else every core)")
      ->check(bounded)
      ->capture_default_str();
}

// The flags the ports of PyTorch's examples (examples/pytorch/) share: the data folder, its first N training images
// only, --threads, --device, and the run folder RUNS/NAME.
template <class Args>
void add_port_flags(CLI::App& app, Args& args) {
  app.add_option("--data", args.data, "folder of the data set's IDX files (raw or .gz)")->capture_default_str();
  app.add_option("--train-images", args.train_images, "train on the first N images only (0: all)")
      ->check(CLI::Range(0, 60000));
  add_threads_flag(app, args.threads);
  add_device_flag(app, args.device);
  app.add_option("--runs", args.runs, "folder of run folders")->capture_default_str();
  app.add_option("--name", args.name, "this run's folder under --runs")->capture_default_str()->check(plain_name);
}

// --solver euler|midpoint|heun|rk4 (flow/ode.hpp).
inline void add_solver_flag(CLI::App& app, std::string& solver) {
  app.add_option("--solver", solver, "ODE solver of sampling: euler (the assignment's), midpoint, heun or rk4")
      ->check(CLI::IsMember({"euler", "midpoint", "heun", "rk4"}))
      ->capture_default_str();
}

inline void TrainFlags::add_to(CLI::App& app, DataKinds kinds) {
  app.add_option("--data", data,
                 kinds == DataKinds::mnist_only
                     ? "data set folder: MNIST-format IDX files, raw or .gz (MNIST or Fashion-MNIST; "
                       "scripts/fetch_mnist.sh fetches MNIST)"
                     : "data set folder: MNIST-format IDX files (raw or .gz), CIFAR-10 binary batches, or "
                       "train/ and test/ folders of class sub-folders of PNG images")
      ->capture_default_str();
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
  app.add_flag("--flip", flip,
               "mirror each training image left-right with probability 1/2 (drawn per epoch and image)");
  app.add_flag("--deterministic-reduce", deterministic_reduce,
               "under mpirun: add the processes' gradients in rank order, so that a run repeats its bits");
}

// CLI11_PARSE after the number checks every program's flags get (check_number_flags).
#define EXAMPLES_PARSE_FLAGS(app, argc, argv) \
  examples::check_number_flags(app);          \
  CLI11_PARSE(app, argc, argv)

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
