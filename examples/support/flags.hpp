#pragma once
// What every example program shares, light enough for the sources that only parse flags: the training flags'
// values, the dispatch of --device and --hidden to types, and the one-sentence error exit. cli.hpp adds CLI11 for
// those sources; programs.hpp adds the library for the runs.
#include <omp.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <unetflow/backend/cpu_fwd.hpp>
#include <unetflow/data/datasets.hpp>
#include <unetflow/error.hpp>
#include <unetflow/threads.hpp>
#if defined(UNETFLOW_HAS_CUDA)
#include <unetflow/backend/cuda.hpp>
#endif

namespace CLI {
class App;
}

namespace examples {

namespace fs = std::filesystem;
using namespace unetflow;

// The first statement of every program: idle OpenMP threads sleep between kernels unless OMP_WAIT_POLICY says
// otherwise (measurements in docs/library.md, "Threads"); the program starts again once to set it.
inline void use_program_wait_policy(char** argv) { use_wait_policy(argv, "passive"); }

// --threads N: N threads for the kernels from now on; 0 keeps OpenMP's choice (OMP_NUM_THREADS, else every core).
inline void apply_threads(int threads) {
  if (threads > 0) return set_threads(threads);
  if (omp_get_max_threads() > max_threads())  // OpenMP's choice, from OMP_NUM_THREADS
    throw Error("OMP_NUM_THREADS asks for " + std::to_string(omp_get_max_threads()) + " threads, more than the " +
                std::to_string(max_threads()) + " allowed on this machine's " + std::to_string(omp_get_num_procs()) +
                " cores (four per core): set it lower, or give --threads.");
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
  bool resume = false, quiet = false, deterministic_reduce = false;
  bool flip = false;  // --flip: training images mirrored left-right with probability 1/2

  // Which data sets a program reads, for --data's help.
  enum class DataKinds { any, mnist_only };
  void add_to(CLI::App& app, DataKinds kinds = DataKinds::any);  // cli.hpp
  void apply_preset(CLI::App& app, const TrainFlags& quick);     // cli.hpp

  fs::path run_dir() const { return fs::path(runs) / name; }

  void apply_threads() const { examples::apply_threads(threads); }
};

// Calls f.template operator()<B>() with the backend policy --device names.
template <class F>
decltype(auto) with_backend(const std::string& device, F&& f) {
#if defined(UNETFLOW_HAS_CUDA)
  if (device == "cuda" || (device == "auto" && cuda::available())) return f.template operator()<cuda>();
#else
  if (device == "cuda")
    throw Error(
        "--device cuda: this build has no CUDA backend (configure with -DUNETFLOW_CUDA=ON -DUNETFLOW_EXAMPLES_CUDA=ON "
        "where nvcc is installed; the second is on by default only where a GPU is visible).");
#endif
  return f.template operator()<cpu>();
}

// Calls f.template operator()<D>() for the run-time width D (each supported width is a separate model type).
template <class F>
decltype(auto) with_hidden(int hidden, F&& f) {
  switch (hidden) {
    case 16:
      return f.template operator()<16>();
    case 32:
      return f.template operator()<32>();
    case 64:
      return f.template operator()<64>();
    case 128:
      return f.template operator()<128>();
  }
  throw Error("--hidden " + std::to_string(hidden) + " is not one of the widths built in: 16, 32, 64, 128.");
}

// Where train_classifier writes the classifier of the data set in `data` (and train_flow and score look for it):
// runs/classifier for the default MNIST folder, runs/classifier_<folder name> for any other.
inline fs::path default_classifier_for(const std::string& data, const std::string& runs = "runs") {
  const auto name = folder_name(data);
  auto resolved = [](const fs::path& p) {  // as `realpath -m` (scripts/classifier.sh), without a trailing separator
    std::error_code ec;
    auto r = fs::weakly_canonical(fs::absolute(p), ec);
    if (ec) r = fs::absolute(p).lexically_normal();
    return r.has_filename() ? r : r.parent_path();
  };
  const bool mnist = resolved(data) == resolved(TrainFlags{}.data);
  const std::string run = mnist || name.empty() ? "classifier" : "classifier_" + name;
  return fs::path(runs) / run / "classifier.safetensors";
}

// Calls f.template operator()<S>() with the model input shape (the programs are built for two) for images of channels x
// height x width; `source` names where they come from, for the message.
template <class F>
decltype(auto) with_image_shape(int channels, int height, int width, const std::string& source, F&& f) {
  if (channels == 1 && height == 28 && width == 28) return f.template operator()<Shape<1, 28, 28>>();
  if (channels == 3 && height == 32 && width == 32) return f.template operator()<Shape<3, 32, 32>>();
  throw Error(source + " holds " + std::to_string(channels) + "x" + std::to_string(height) + "x" +
              std::to_string(width) +
              " images; the programs are built for 1x28x28 (MNIST) and 3x32x32 (CIFAR-10) images (a model of another " +
              "size is one type in your own program: docs/library.md).");
}
template <class F>
decltype(auto) with_image_shape(const ImageSet& set, F&& f) {
  return with_image_shape(set.channels, set.height, set.width, set.source, std::forward<F>(f));
}

// The command line that started the program, without --resume (what an interrupted run says to resume with).
inline std::string command_line_of(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) == "--resume") continue;
    line += (i ? " " : "") + std::string(argv[i]);
  }
  return line;
}

// The commit of the sources this program was built from ("<hash>-modified" with uncommitted changes).
const char* build_commit();

void abort_other_processes() noexcept;  // process_comm.hpp

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
  abort_other_processes();  // under mpirun: the other processes would wait for this one forever
  return 1;
}

}  // namespace examples
