// The batch-norm statistics of averaged weights: recompute_batch_norm_statistics (PyTorch's update_bn: the plain
// average of the batches' own statistics, against closed forms), an Ema that averages the buffers too (timm's
// ModelEmaV2), and the trainer's three choices (TrainOptions::ema_statistics) through evaluation_weights and resume.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <unetflow/unetflow.hpp>

#include "test_util.hpp"

using namespace unetflow;
namespace fs = std::filesystem;

namespace {

// Per channel: the batch's mean and unbiased variance of x (n samples of C planes of `plane` values), in double.
void batch_statistics(const std::vector<float>& x, int n, int C, int plane, std::vector<double>& mean,
                      std::vector<double>& var) {
  mean.assign(std::size_t(C), 0.0);
  var.assign(std::size_t(C), 0.0);
  const double count = double(n) * plane;
  for (int c = 0; c < C; ++c) {
    double s = 0, ss = 0;
    for (int i = 0; i < n; ++i)
      for (int p = 0; p < plane; ++p) s += x[std::size_t((i * C + c) * plane + p)];
    const double m = s / count;
    for (int i = 0; i < n; ++i)
      for (int p = 0; p < plane; ++p) ss += std::pow(x[std::size_t((i * C + c) * plane + p)] - m, 2);
    mean[std::size_t(c)] = m;
    var[std::size_t(c)] = ss / (count - 1);
  }
}

using ConvThenNorm = Sequential<Conv2d<2, 3, 3, 1, 1>, BatchNorm2d<3>>;

}  // namespace

TEST_CASE("recompute_batch_norm_statistics averages the statistics of the batches' training-mode passes, as update_bn") {
  Rng rng(61, 1);
  ConvThenNorm model;
  reset_parameters(model, rng);
  set_training(model, false);
  auto& norm = model.get<1>();
  cpu::fill(norm.running_mean.data(), 3, 5.0f);  // stale statistics, which must not count
  cpu::fill(norm.running_var.data(), 3, 7.0f);
  constexpr int batches = 4, n = 6;
  std::vector<Tensor<Shape<2, 5, 5>, cpu>> xs;
  std::vector<double> mean_sum(3, 0.0), var_sum(3, 0.0), mean, var;
  for (int k = 0; k < batches; ++k) {
    xs.emplace_back(n);
    fill_uniform(xs.back(), rng, -1.0 + k, 1.0 + 2 * k);  // batches of different statistics
    Conv2d<2, 3, 3, 1, 1> conv;  // the normalised input, from a convolution with the model's weights
    std::copy_n(model.get<0>().weight.data(), conv.weight.size, conv.weight.data());
    std::copy_n(model.get<0>().bias.data(), conv.bias.size, conv.bias.data());
    const auto y = conv.forward(xs.back().view());
    std::vector<float> h(std::size_t(y.numel()));
    cpu::to_host(y.data, h.data(), y.numel());
    batch_statistics(h, n, 3, 25, mean, var);
    for (int c = 0; c < 3; ++c) mean_sum[std::size_t(c)] += mean[std::size_t(c)], var_sum[std::size_t(c)] += var[std::size_t(c)];
  }
  int calls = 0;
  recompute_batch_norm_statistics(model, batches, [&](int k) {
    CHECK(k == calls++);
    CHECK(norm.mode.training);
    model.forward(xs[std::size_t(k)].view());
  });
  CHECK(calls == batches);
  CHECK_FALSE(norm.mode.training);  // the modes come back
  for (int c = 0; c < 3; ++c) {
    CAPTURE(c);
    CHECK(norm.running_mean.data()[c] == doctest::Approx(mean_sum[std::size_t(c)] / batches).epsilon(1e-5));
    CHECK(norm.running_var.data()[c] == doctest::Approx(var_sum[std::size_t(c)] / batches).epsilon(1e-5));
  }
  CHECK(test_util::error_of([&] { recompute_batch_norm_statistics(model, 0, [](int) {}); })
            .find("0 batches; give at least one") != std::string::npos);
}

TEST_CASE("an Ema with buffers averages the running statistics with the weights, and copy_to without buffers leaves them") {
  for (bool buffers : {false, true}) {
    CAPTURE(buffers);
    BatchNorm2d<2> m, target;
    cpu::fill(target.running_mean.data(), 2, -3.0f);
    Ema<cpu> ema(m, 0.5, buffers);
    double shadow_w = 1, shadow_mean = 0;  // the initial weight 1 and running mean 0
    for (int k = 0; k < 12; ++k) {
      cpu::fill(m.weight.data(), 2, float(k + 2));
      cpu::fill(m.running_mean.data(), 2, float(3 * k));
      ema.update();
      const double d = std::min(0.5, (1.0 + k) / (10.0 + k));
      shadow_w = d * shadow_w + (1 - d) * (k + 2);
      shadow_mean = d * shadow_mean + (1 - d) * (3 * k);
    }
    ema.copy_to(target);
    CHECK(target.weight.data()[1] == doctest::Approx(shadow_w).epsilon(1e-6));
    CHECK(target.running_mean.data()[1] == doctest::Approx(buffers ? shadow_mean : -3.0).epsilon(1e-6));
    int entries = 0;
    ema.visit("", [&](const std::string&, auto&) { ++entries; });
    CHECK(entries == (buffers ? 1 + 4 : 1 + 2));  // updates, weight, bias (and running_mean, running_var)
  }
}

namespace {
using Small = TimeUNet<1, 28, 28, 4>;

std::vector<float> running_means(Small& m) {
  std::vector<float> out;
  m.visit("", [&](const std::string& name, auto& e) {
    if constexpr (std::is_same_v<std::decay_t<decltype(e)>, Buffer<cpu>>)
      if (name.ends_with("running_mean")) {
        const auto h = e.to_host();
        out.insert(out.end(), h.begin(), h.end());
      }
  });
  return out;
}
}  // namespace

TEST_CASE("the trainer evaluates averaged weights with running, averaged or recomputed batch-norm statistics") {
  const ImageSet set = test_util::noise_images(48, 71);
  std::map<EmaStatistics, std::vector<float>> evaluated;
  std::vector<float> trained;
  for (EmaStatistics choice : {EmaStatistics::running, EmaStatistics::averaged, EmaStatistics::recomputed}) {
    CAPTURE(ema_statistics_name(choice));
    const auto dir = test_util::temp_dir(std::string("ema_stats_") + ema_statistics_name(choice));
    fs::remove_all(dir);
    auto model = std::make_unique<Small>();
    Rng init(3);
    reset_parameters(*model, init);
    FlowMatchingTask<Small> task(0.0);
    TrainOptions o;
    o.epochs = 2;
    o.batch = 16;
    o.lr = 1e-2;
    o.seed = 4;
    o.ema_decay = 0.9;
    o.ema_statistics = choice;
    o.statistics_batches = 2;
    o.run_dir = dir;
    o.progress = false;
    o.memory_limit_bytes = -1;
    Trainer<Small, FlowMatchingTask<Small>> trainer(*model, task, set, o, {{"model", "Small"}});
    std::vector<std::vector<float>> per_epoch;  // what evaluation_weights gives at each epoch's end
    trainer.run([&](int) {
      auto out = std::make_unique<Small>();
      trainer.evaluation_weights(*out);
      per_epoch.push_back(running_means(*out));
    });
    trained = running_means(*model);  // the same training in every case: the choice changes evaluation only
    auto out = std::make_unique<Small>();
    trainer.evaluation_weights(*out);
    evaluated[choice] = running_means(*out);
    REQUIRE(per_epoch.size() == 2);
    CHECK(per_epoch[1] == evaluated[choice]);
    CHECK(per_epoch[0] != per_epoch[1]);  // made again once the weights moved
    // each weights file holds what evaluation_weights gave at its epoch, and the checkpoint resumes with the same
    // choice only
    for (int epoch : {1, 2}) {
      auto loaded = std::make_unique<Small>();
      load_weights(dir / ("model-epoch" + std::to_string(epoch) + ".safetensors"), {}, *loaded);
      CHECK(running_means(*loaded) == per_epoch[std::size_t(epoch - 1)]);
    }
    {  // a trainer resumed from the checkpoint evaluates the same: the same batches and noise every time
      auto resumed_options = o;
      resumed_options.resume = true;
      auto other = std::make_unique<Small>();
      FlowMatchingTask<Small> task2(0.0);
      Trainer<Small, FlowMatchingTask<Small>> t(*other, task2, set, resumed_options, {{"model", "Small"}});
      t.run();
      auto e = std::make_unique<Small>();
      t.evaluation_weights(*e);
      CHECK(running_means(*e) == evaluated[choice]);
    }
    if (choice != EmaStatistics::running) {
      o.resume = true;
      o.epochs = 3;
      o.ema_statistics = EmaStatistics::running;
      auto other = std::make_unique<Small>();
      FlowMatchingTask<Small> task2(0.0);
      const auto error = test_util::error_of([&] {
        Trainer<Small, FlowMatchingTask<Small>> t(*other, task2, set, o, {{"model", "Small"}});
        t.run();
      });
      CHECK(error.find("checkpoint.safetensors") != std::string::npos);
    }
    fs::remove_all(dir);
  }
  CHECK(evaluated[EmaStatistics::running] == trained);
  CHECK(evaluated[EmaStatistics::averaged] != trained);
  CHECK(evaluated[EmaStatistics::recomputed] != trained);
  CHECK(evaluated[EmaStatistics::recomputed] != evaluated[EmaStatistics::averaged]);
}

TEST_CASE("recomputed EMA statistics are refused for a task without forward, and so are zero statistics batches") {
  using Denoiser = UNet<1, 28, 28, 4>;
  const ImageSet set = test_util::noise_images(16, 72);
  auto model = std::make_unique<Denoiser>();
  DenoiseTask<Denoiser> task(0.5, false);
  TrainOptions o;
  o.batch = 8;
  o.progress = false;
  o.memory_limit_bytes = -1;
  o.run_dir = test_util::temp_dir("ema_refused");
  o.ema_statistics = EmaStatistics::recomputed;
  auto make = [&] { Trainer<Denoiser, DenoiseTask<Denoiser>> t(*model, task, set, o, {}); };
  CHECK(test_util::error_of(make) == "(no error)");  // no EMA kept: nothing to recompute
  o.ema_decay = 0.9;
  CHECK(test_util::error_of(make).find("need a task with forward") != std::string::npos);
  o.ema_statistics = EmaStatistics::running;
  o.statistics_batches = 0;
  CHECK(test_util::error_of(make).find("statistics_batches is 0") != std::string::npos);
  fs::remove_all(o.run_dir);
}
