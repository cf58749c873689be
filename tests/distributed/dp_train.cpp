// The data-parallel trainer under mpirun (tests/distributed/dp_test.sh drives it): a denoiser without BatchNorm
// (or with it: --batchnorm) trained on a synthetic set whose labels are the sample indices, so that each process
// can record which samples it was given.
//   dp_train train RUN_DIR EPOCHS [--deterministic] [--resume] [--kill-at-step K] [--steps-per-epoch S]
//                                 [--batch N] [--batchnorm]
//       trains (rank 0 writes RUN_DIR); every rank writes RUN_DIR/visits-<rank>.txt ("<epoch> <sample>" for each
//       sample it was given); --kill-at-step K: every process raises SIGKILL at its K-th step
//   dp_train compare A B TOLERANCE [NAME_PART]
//       exit 0 when every tensor of the safetensors files A and B (but a checkpoint's epoch times; with NAME_PART
//       only those whose name contains it) agrees within TOLERANCE relative to the tensor's largest magnitude (0:
//       the same bits); prints the largest difference
#include <csignal>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <unetflow/distributed/mpi.hpp>
#include <unetflow/unetflow.hpp>

using namespace unetflow;

using Image = Shape<1, 12, 12>;

// A denoiser around Net: with no BatchNorm its result does not depend on how a batch is split among processes.
template <class Net>
struct Denoiser {
  using In = Image;
  using backend = cpu;
  Net net;

  View<In, float> forward(View<In, const float> x) {
    x_ = x;
    return net.forward(x);
  }
  void backward(View<In, float> dy) { net.backward(x_, dy, View<In, float>{}); }
  template <class F>
  void visit(const std::string& prefix, F&& f) {
    net.visit(prefix, f);
  }

 private:
  View<In, const float> x_;
};

using PlainDenoiser = Denoiser<Sequential<Conv2d<1, 6, 3, 1, 1>, GELU<>, Conv2d<6, 6, 3, 1, 1>, GELU<>, Conv2d<6, 1, 3, 1, 1>>>;
using BatchNormDenoiser = Denoiser<Sequential<ConvBnAct<Conv2d<1, 6, 3, 1, 1>, GELU<>>, Conv2d<6, 1, 3, 1, 1>>>;

// DenoiseTask, recording the labels (sample indices) each step is given, and killing the process at a step.
template <class Model>
struct RecordingTask : DenoiseTask<Model> {
  RecordingTask() : DenoiseTask<Model>(0.5, false) {}
  double step(Model& m, View<Image, const float> x, const std::uint8_t* labels, Rng& rng, Shard shard = {}) {
    if (++steps == kill_at_step) std::raise(SIGKILL);
    const long epoch = (steps - 1) / steps_per_epoch;
    for (int i = 0; i < x.n; ++i) visits.push_back({epoch, labels[i]});
    return DenoiseTask<Model>::step(m, x, labels, rng, shard);
  }
  long steps = 0, kill_at_step = -1, steps_per_epoch = 1;
  std::vector<std::pair<long, int>> visits;  // (epoch, sample)
};

// 30 images (so that a batch of 8 leaves a last batch of 6): smooth blobs at places drawn from a fixed stream.
ImageSet synthetic_set() {
  ImageSet set;
  set.n = 30;
  set.height = set.width = 12;
  set.source = "synthetic";
  Rng rng(11);
  for (int s = 0; s < set.n; ++s) {
    const double cy = 2 + 8 * rng.uniform(), cx = 2 + 8 * rng.uniform();
    for (int y = 0; y < 12; ++y)
      for (int x = 0; x < 12; ++x)
        set.images.push_back(float(std::exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / 6.0)));
    set.labels.push_back(std::uint8_t(s));
  }
  return set;
}

int compare(const std::string& a, const std::string& b, double tolerance, const std::string& only = "") {
  const auto fa = safetensors::read(a), fb = safetensors::read(b);
  double worst = 0;
  bool same_bits = only.empty() ? fa.tensors.size() == fb.tensors.size() && fa.metadata == fb.metadata : true;
  for (const auto& [name, ta] : fa.tensors) {
    if (name == "progress.epoch_seconds") continue;  // wall times
    if (name.find(only) == std::string::npos) continue;
    const auto found = fb.tensors.find(name);
    if (found == fb.tensors.end() || found->second.bytes.size() != ta.bytes.size()) {
      std::printf("%s: %s is missing or has another size\n", b.c_str(), name.c_str());
      return 1;
    }
    const auto& tb = found->second;
    same_bits = same_bits && ta.bytes == tb.bytes;
    if (ta.dtype != safetensors::DType::F32) {
      if (ta.bytes != tb.bytes) worst = std::max(worst, 1.0);  // a counter
      continue;
    }
    const auto* x = reinterpret_cast<const float*>(ta.bytes.data());
    const auto* y = reinterpret_cast<const float*>(tb.bytes.data());
    double largest = 0, diff = 0;
    for (std::size_t i = 0; i < ta.bytes.size() / 4; ++i) {
      largest = std::max(largest, double(std::abs(x[i])));
      diff = std::max(diff, double(std::abs(x[i] - y[i])));
    }
    worst = std::max(worst, largest > 0 ? diff / largest : diff);
  }
  std::printf("%s: largest relative difference %.3g (tolerance %.3g)\n", same_bits ? "same bits" : "not the same bits",
              worst, tolerance);
  return (tolerance == 0 ? same_bits : worst <= tolerance) ? 0 : 1;
}

struct Flags {
  TrainOptions train;
  MpiOptions mpi;
  long kill_at_step = -1;
  bool batchnorm = false;
};

template <class Model>
int train(int argc, char** argv, Flags f) {
  MpiComm comm(&argc, &argv, f.mpi);
  const ImageSet set = synthetic_set();
  Model model;
  Rng init(comm.rank() + 1);  // different on every rank: the trainer must broadcast rank 0's
  reset_parameters(model, init);
  RecordingTask<Model> task;
  task.kill_at_step = f.kill_at_step;
  Trainer<Model, RecordingTask<Model>, MpiComm> trainer(model, task, set, f.train, {{"model", "denoiser"}}, comm);
  task.steps_per_epoch = trainer.steps_per_epoch();
  trainer.run([&](int epoch) { std::printf("epoch %d done on %d processes\n", epoch, comm.size()); });
  std::ofstream visits(f.train.run_dir / ("visits-" + std::to_string(comm.rank()) + (f.train.resume ? "-resumed" : "") + ".txt"));
  for (const auto& [epoch, sample] : task.visits) visits << epoch << ' ' << sample << '\n';
  if (!visits.flush()) throw Error("dp_train: cannot write the visits file.");
  if (comm.rank() == 0) std::printf("all-reduce: %.4f s in total\n", trainer.reduce_seconds());
  return 0;
}

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    if ((args.size() == 4 || args.size() == 5) && args[0] == "compare")
      return compare(args[1], args[2], std::stod(args[3]), args.size() == 5 ? args[4] : "");
    if (args.size() < 3 || args[0] != "train") {
      std::fprintf(stderr, "usage: dp_train train RUN_DIR EPOCHS [options] | dp_train compare A B TOLERANCE [NAME_PART]\n");
      return 2;
    }
    Flags f;
    f.train.run_dir = args[1];
    f.train.epochs = std::stoi(args[2]);
    f.train.batch = 8;
    f.train.lr = 3e-3;
    f.train.lr_gamma = 0.9;
    f.train.seed = 5;
    f.train.progress = false;
    f.train.memory_limit_bytes = -1;  // no probe steps: they would be recorded as visits
    for (std::size_t i = 3; i < args.size(); ++i) {
      if (args[i] == "--deterministic") f.mpi.deterministic = true;
      else if (args[i] == "--resume") f.train.resume = true;
      else if (args[i] == "--batchnorm") f.batchnorm = true;
      else if (args[i] == "--kill-at-step" && i + 1 < args.size()) f.kill_at_step = std::stol(args[++i]);
      else if (args[i] == "--steps-per-epoch" && i + 1 < args.size()) f.train.steps_per_epoch = std::stoi(args[++i]);
      else if (args[i] == "--batch" && i + 1 < args.size()) f.train.batch = std::stoi(args[++i]);
      else throw Error("dp_train: unknown argument " + args[i] + ".");
    }
    return f.batchnorm ? train<BatchNormDenoiser>(argc, argv, f) : train<PlainDenoiser>(argc, argv, f);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dp_train: %s\n", e.what());
    return 1;
  }
}
