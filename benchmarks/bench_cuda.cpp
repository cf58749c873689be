// The GPU side of scripts/device-check.sh: training-step throughput of the SPEC's configurations on the CUDA
// backend (the library's own tasks: host-drawn noise, recorded step replayed as a CUDA Graph, Adam), with TF32
// off and on, on the im2col and (where built) the cuDNN convolution engine, CFG sampling time, and with --data
// the SPEC's 5-epoch D=128 denoiser run through Trainer (on the engine UNETFLOW_CUDA_CONV selects).
//   bench_cuda [--data DIR [--full-run-only]] [--steps N]
// Prints one "name: value unit" line per figure (benchmarks/compare_pytorch_cuda.py reads them).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <unetflow/backend/cuda.hpp>
#include <unetflow/unetflow.hpp>

using namespace unetflow;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// images/s of `steps` training steps after 3 warm-up steps (the first records the graph).
template <class Model, class Task>
double step_rate(Task& task, int batch, double lr, int steps) {
  auto model = std::make_unique<Model>();
  Rng init(0, 2), noise(0, 1), data(0, 3);
  reset_parameters(*model, init);
  Adam<cuda> adam(*model, {.lr = lr});
  std::vector<float> host(std::size_t(batch) * Model::In::size);
  data.fill_uniform(host.data(), std::ptrdiff_t(host.size()));
  Tensor<typename Model::In, cuda> x(batch);
  cuda::from_host(host.data(), x.data(), x.numel());
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(batch));
  for (auto& l : labels) l = std::uint8_t(data.below(10));
  auto step = [&] {
    adam.zero_grad();
    const double loss = task.step(*model, View<typename Model::In, const float>(x.view()), labels.data(), noise);
    adam.step();
    return loss;
  };
  for (int i = 0; i < 3; ++i) step();
  cuda::synchronize();
  const auto t0 = Clock::now();
  for (int i = 0; i < steps; ++i) step();  // each step reads its loss back: the run waits for the device anyway
  cuda::synchronize();
  return batch * steps / seconds_since(t0);
}

void step_figures(const std::string& suffix, int steps) {
  {
    using M = UNet<1, 28, 28, 128, cuda>;
    DenoiseTask<M> task(0.5, false);
    std::printf("denoiser_D128_B256%s: %.1f images/s\n", suffix.c_str(), step_rate<M>(task, 256, 1e-4, steps));
  }
  {
    using M = TimeUNet<1, 28, 28, 64, cuda>;
    FlowMatchingTask<M> task(0.0);
    std::printf("fm_time_D64_B64%s: %.1f images/s\n", suffix.c_str(), step_rate<M>(task, 64, 1e-2, steps));
  }
  {
    using M = ClassTimeUNet<1, 28, 28, 64, 10, cuda>;
    FlowMatchingTask<M> task(0.1);
    std::printf("fm_class_D64_B64%s: %.1f images/s\n", suffix.c_str(), step_rate<M>(task, 64, 1e-2, steps));
  }
  std::fflush(stdout);
}

void sampling_figure() {
  using M = ClassTimeUNet<1, 28, 28, 64, 10, cuda>;
  auto model = std::make_unique<M>();
  Rng init(0, 2), noise(0, 6);
  reset_parameters(*model, init);
  FlowSampler<M> sampler;
  std::vector<int> labels;
  for (int d = 0; d < 10; ++d)
    for (int k = 0; k < 4; ++k) labels.push_back(d);
  sampler.sample(*model, labels, 5.0, 50, noise);  // warm-up: buffers and the recording
  cuda::synchronize();
  const auto t0 = Clock::now();
  sampler.sample(*model, labels, 5.0, 50, noise);
  cuda::synchronize();
  std::printf("cfg_sample_40_T50_D64: %.4f s\n", seconds_since(t0));
}

// The SPEC's Part 1 run: D = 128, batch 256, 5 epochs over the 60000 training digits, Adam 1e-4.
void full_denoiser_run(const std::string& data) {
  using M = UNet<1, 28, 28, 128, cuda>;
  const auto train = load_mnist(data, Split::train);
  auto model = std::make_unique<M>();
  Rng init(0, 2);
  reset_parameters(*model, init);
  DenoiseTask<M> task(0.5, false);
  TrainOptions o;
  o.epochs = 5;
  o.batch = 256;
  o.lr = 1e-4;
  o.run_dir = std::filesystem::temp_directory_path() / "unetflow_bench_cuda_run";
  o.progress = false;
  std::filesystem::remove_all(o.run_dir);
  Trainer<M, DenoiseTask<M>> trainer(*model, task, train, o, {{"model", "UNet<1,28,28,D=128>"}});
  const auto t0 = Clock::now();
  trainer.run();
  const double wall = seconds_since(t0);
  double training = 0;
  for (double s : trainer.progress().epoch_seconds.values) training += s;
  std::printf("denoiser_D128_5_epochs_training: %.1f s\n", training);
  std::printf("denoiser_D128_5_epochs_wall (with checkpoints): %.1f s\n", wall);
  std::printf("denoiser_D128_5_epochs_final_loss: %.5f\n", trainer.losses().back());
  std::filesystem::remove_all(o.run_dir);
}

}  // namespace

int main(int argc, char** argv) {
  std::string data;
  int steps = 30;
  bool full_run_only = false;
  const char* usage = "usage: bench_cuda [--data DIR [--full-run-only]] [--steps N]";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
    else if (!std::strcmp(argv[i], "--full-run-only")) full_run_only = true;
    else if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) {
      char* end = nullptr;
      const long v = std::strtol(argv[++i], &end, 10);
      if (*end || v < 1 || v > 100000) {
        std::fprintf(stderr, "bench_cuda: --steps %s is not a whole number from 1 to 100000.\n", argv[i]);
        return 2;
      }
      steps = int(v);
    } else {
      std::fprintf(stderr, "bench_cuda: unknown argument %s (%s)\n", argv[i], usage);
      return 2;
    }
  }
  if (full_run_only && data.empty()) {
    std::fprintf(stderr, "bench_cuda: --full-run-only needs --data DIR (%s)\n", usage);
    return 2;
  }
  if (!cuda::available()) {
    std::puts("skipped: no CUDA device here");
    return 77;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each figure as soon as it is measured, also into a pipe
  std::printf("device: %s\n", cuda::device_name().c_str());
  // Each figure on its own: a failure loses that figure only.
  int failures = 0;
  auto figure = [&](const char* what, auto&& measure) {
    try {
      measure();
    } catch (const std::exception& e) {
      std::printf("bench_cuda: %s failed: %s\n", what, e.what());
      ++failures;
    }
  };
  if (full_run_only) {
    figure("the 5-epoch denoiser run", [&] { full_denoiser_run(data); });
    return failures == 0 ? 0 : 1;
  }
  figure("training steps (FP32)", [&] { step_figures("", steps); });
  figure("training steps (TF32)", [&] {
    cuda::set_tf32(true);
    step_figures("_tf32", steps);
  });
  figure("TF32 off again", [&] { cuda::set_tf32(false); });
  // The cuDNN convolution engine beside ours (the default is chosen by these figures).
  if (cuda::has_cudnn()) {
    figure("training steps (cuDNN, FP32)", [&] {
      cuda::set_conv_engine(cuda::ConvEngine::cudnn);
      step_figures("_cudnn", steps);
    });
    figure("training steps (cuDNN, TF32)", [&] {
      cuda::set_tf32(true);
      step_figures("_tf32_cudnn", steps);
    });
    figure("back to im2col and FP32", [&] {
      cuda::set_tf32(false);
      cuda::set_conv_engine(cuda::ConvEngine::im2col);
    });
  } else {
    std::puts("cuDNN engine: not in this build");
  }
  figure("CFG sampling", [&] { sampling_figure(); });
  if (!data.empty()) figure("the 5-epoch denoiser run", [&] { full_denoiser_run(data); });
  return failures == 0 ? 0 : 1;
}
