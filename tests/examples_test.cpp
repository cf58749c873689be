// The example programs end to end on a small synthetic IDX set: every expected file appears, and bad input
// (a wrong flag, a truncated data file) stops with one sentence.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <unetflow/io/npy.hpp>
#include <utility>
#include <vector>

#include "command.hpp"
#include "synthetic_idx.hpp"

namespace fs = std::filesystem;

namespace {

using test_command::read_text;
using test_command::run;
using test_command::write_text;

fs::path data_dir() {
  static const fs::path dir = [] {
    auto d = fs::temp_directory_path() / ("unetflow_examples_" + std::to_string(::getpid()));
    fs::remove_all(d);
    synthetic::write_mnist_like(d / "data", "train", 192);
    synthetic::write_mnist_like(d / "data", "t10k", 48, true);
    return d;
  }();
  return dir;
}

const std::string tiny = " --hidden 16 --epochs 2 --batch 32 --steps-per-epoch 2 --eval-images 40 --quiet";

void check_files(const fs::path& dir, const std::vector<std::string>& names) {
  for (const auto& n : names) CHECK_MESSAGE(fs::exists(dir / n), (dir / n).string());
  std::ifstream f(dir / "summary.json");
  const auto summary = nlohmann::json::parse(f);
  for (auto& [name, what] : summary.at("files").items()) CHECK_MESSAGE(fs::exists(dir / name), name);
}

}  // namespace

TEST_CASE("noising_figure writes D1") {
  const auto d = data_dir();
  const auto r = run(std::string(NOISING_FIGURE) + " --data " + (d / "data").string() + " --runs " + (d / "runs").string());
  INFO(r.output);
  REQUIRE(r.status == 0);
  check_files(d / "runs" / "noising", {"d1_noising.png", "d1_noising.npy", "summary.json"});
}

TEST_CASE("train_denoiser writes D2, D3, D4 and the checkpoints of D6, and resumes") {
  const auto d = data_dir();
  const std::string base = std::string(TRAIN_DENOISER) + " --data " + (d / "data").string() + " --runs " + (d / "runs").string();
  auto r = run(base + tiny);
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("test MSE at sigma=0.50 over 40 images") != std::string::npos);
  const auto dir = d / "runs" / "denoiser";
  check_files(dir, {"d2_loss.csv", "d2_loss.png", "d3_results_epoch1.png", "d3_results_epoch1.npy",
                    "d3_results_epoch2.png", "d3_results_epoch2.npy", "d4_out_of_distribution.png",
                    "d4_out_of_distribution.npy", "checkpoint.safetensors", "model-epoch1.safetensors",
                    "model-epoch2.safetensors", "summary.json"});
  // Without --resume the finished run is not overwritten; with it and more epochs it continues.
  r = run(base + tiny);
  CHECK(r.status == 1);
  CHECK(r.output.find("already holds a checkpoint: continue it with --resume") != std::string::npos);
  r = run(base + " --hidden 16 --epochs 3 --batch 32 --steps-per-epoch 2 --eval-images 40 --quiet --resume");
  CHECK(r.status == 0);
  CHECK(fs::exists(dir / "model-epoch3.safetensors"));
  CHECK(fs::exists(dir / "d3_results_epoch3.png"));
}

TEST_CASE("train_pure_noise writes D5") {
  const auto d = data_dir();
  const auto r = run(std::string(TRAIN_PURE_NOISE) + " --data " + (d / "data").string() + " --runs " + (d / "runs").string() + tiny);
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("MSE(output, mean training digit)") != std::string::npos);
  check_files(d / "runs" / "pure_noise", {"d5_loss.csv", "d5_loss.png", "d5_samples_epoch1.png", "d5_samples_epoch2.png",
                                          "d5_samples_epoch2.npy", "d5_centroid.png", "d5_centroid.npy", "summary.json"});
}

TEST_CASE("train_classifier, train_flow (time, classes, no scheduler), sample and score write D7-D11") {
  const auto d = data_dir();
  const std::string io = " --data " + (d / "data").string() + " --runs " + (d / "runs").string();
  // runs/classifier_<folder> for a --data other than data/mnist (default_classifier_for, examples/support/flags.hpp)
  const auto classifier = d / "runs" / "classifier_data" / "classifier.safetensors";
  auto r = run(std::string(TRAIN_CLASSIFIER) + io + " --epochs 1 --batch 64 --quiet");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("classifier test accuracy") != std::string::npos);
  REQUIRE(fs::exists(classifier));
  const std::string flow = std::string(TRAIN_FLOW) + io + " --classifier " + classifier.string() +
                           " --hidden 16 --epochs 2 --batch 32 --steps-per-epoch 2 --sample-steps 3 --quiet";
  r = run(flow);
  INFO(r.output);
  REQUIRE(r.status == 0);
  check_files(d / "runs" / "flow_time", {"d7_loss.csv", "d7_loss.png", "d8_samples_epoch1.png", "d8_samples_epoch1.npy",
                                         "d8_samples_epoch2.png", "model-epoch2.safetensors", "summary.json"});
  r = run(flow + " --classes");
  REQUIRE(r.status == 0);
  CHECK(r.output.find("accuracy") != std::string::npos);
  check_files(d / "runs" / "flow_class", {"d9_loss.png", "d10_samples_epoch2.png", "d10_samples_epoch2.npy",
                                          "d10_labels_epoch2.npy", "summary.json"});
  std::ifstream f(d / "runs" / "flow_class" / "summary.json");
  const auto summary = nlohmann::json::parse(f);
  CHECK(summary.at("scores").at("epoch2").contains("frechet_distance"));
  CHECK(summary.at("scores").at("epoch2").at("samples") == 40);
  r = run(flow + " --classes --no-scheduler");
  REQUIRE(r.status == 0);
  check_files(d / "runs" / "flow_class_noscheduler",
              {"d11_loss.png", "d11_samples_epoch2.png", "d11_comparison.png", "summary.json"});
  std::ifstream f11(d / "runs" / "flow_class_noscheduler" / "summary.json");
  const auto summary11 = nlohmann::json::parse(f11);
  CHECK(summary11.at("comparison").at("with_scheduler").at("samples") == 40);
  CHECK(summary11.at("config").at("ema_statistics") == "recomputed");  // the EMA weights' own statistics by default
  CHECK(summary11.at("config").at("statistics_batches") == 20);
  CHECK(summary11.at("comparison").at("with_scheduler").at("accuracy") ==
        summary.at("scores").at("epoch2").at("accuracy"));  // the scheduled run's samples, scored again
  CHECK(summary11.at("comparison").at("without_scheduler").at("accuracy") ==
        summary11.at("scores").at("epoch2").at("accuracy"));
  r = run(flow + " --no-scheduler");
  CHECK(r.status == 1);
  CHECK(r.output.find("add --classes") != std::string::npos);

  // D12: a time-only model of another wiring, beside Part 2's (runs/flow_time) at the same noise, scored on more samples.
  r = run(flow + " --better --score-samples 30");
  INFO(r.output);
  REQUIRE(r.status == 0);
  check_files(d / "runs" / "flow_better", {"d12_loss.png", "d12_samples_epoch2.png", "d12_comparison_epoch1.png",
                                           "d12_comparison_epoch2.png", "summary.json"});
  std::ifstream f12(d / "runs" / "flow_better" / "summary.json");
  const auto summary12 = nlohmann::json::parse(f12);
  CHECK(summary12.at("final_scores").at("samples") == 30);
  CHECK(summary12.at("final_scores").contains("confident_share"));
  CHECK(summary12.at("config").at("arch") == "every-level");
  CHECK(summary12.at("config").at("time_sampling") == "logit-normal");
  CHECK(summary12.at("config").at("ema_statistics") == "recomputed");
  CHECK(summary12.at("config").at("solver") == "midpoint");
  // Part 2's model at the same epoch, scored by this run on as many samples from the same noise, with its own solver
  CHECK(summary12.at("reference_final_scores").at("samples") == 30);
  CHECK(summary12.at("reference_final_scores").at("model") == "TimeUNet<1,28,28,D=16>");
  CHECK(summary12.at("reference_final_scores").at("solver") == "euler");
  CHECK(summary12.at("reference_final_scores").at("frechet_distance") !=
        summary12.at("final_scores").at("frechet_distance"));
  r = run(flow + " --better --classes");
  CHECK(r.status == 1);
  CHECK(r.output.find("drop --classes") != std::string::npos);
  r = run(flow + " --arch residual --classes --name x");
  CHECK(r.status == 1);
  CHECK(r.output.find("--arch residual is not built for class-conditioned models of 1x28x28 images") != std::string::npos);

  // sample: from a weights file and from a full training checkpoint; score: the samples it wrote.
  const auto out = d / "sampled";
  r = run(std::string(SAMPLE) + " " + (d / "runs" / "flow_class" / "model-epoch2.safetensors").string() +
          " --digits 3,3,7,-1 --steps 2 --out " + out.string());
  INFO(r.output);
  REQUIRE(r.status == 0);
  check_files(out, {"samples.png", "samples.npy", "labels.npy"});
  r = run(std::string(SAMPLE) + " " + (d / "runs" / "flow_time" / "checkpoint.safetensors").string() + " -n 3 --steps 2 --out " + (d / "sampled_time").string());
  CHECK(r.status == 0);
  // every model a program trains can be sampled: D12's too
  r = run(std::string(SAMPLE) + " " + (d / "runs" / "flow_better" / "model-epoch2.safetensors").string() +
          " -n 3 --steps 2 --solver midpoint --out " + (d / "sampled_better").string());
  CHECK_MESSAGE(r.status == 0, r.output);
  check_files(d / "sampled_better", {"samples.png", "samples.npy"});
  // the guidance sweep: as many samples at each gamma, scored, as a chart, a table and a grid
  r = run(std::string(SAMPLE) + " " + (d / "runs" / "flow_class" / "model-epoch2.safetensors").string() +
          " --gamma-sweep 0,3 --count 20 --steps 2 --data " + (d / "data").string() + " --classifier " +
          classifier.string() + " --out " + (d / "sweep").string());
  REQUIRE_MESSAGE(r.status == 0, r.output);
  check_files(d / "sweep", {"guidance_sweep.png", "guidance_sweep.csv", "guidance_sweep_grid.png", "summary.json"});
  std::ifstream fsweep(d / "sweep" / "summary.json");
  const auto sweep = nlohmann::json::parse(fsweep).at("sweep");
  REQUIRE(sweep.size() == 2);
  for (const auto& point : sweep) {
    CHECK(point.at("samples") == 20);
    CHECK(point.contains("accuracy"));
  }
  CHECK(sweep[0].at("gamma") == 0.0);
  CHECK(sweep[1].at("gamma") == 3.0);
  CHECK(sweep[0].at("frechet_distance") != sweep[1].at("frechet_distance"));
  r = run(std::string(SAMPLE) + " " + (d / "runs" / "flow_time" / "model-epoch2.safetensors").string() +
          " --gamma-sweep 0,3 --data " + (d / "data").string() + " --out " + (d / "x").string());
  CHECK(r.status == 1);
  CHECK(r.output.find("takes no guidance") != std::string::npos);
  r = run(std::string(SAMPLE) + " " + (d / "runs" / "denoiser" / "model-epoch1.safetensors").string() + " --out " + (d / "x").string());
  if (fs::exists(d / "runs" / "denoiser")) {
    CHECK(r.status == 1);
    CHECK(r.output.find("not a flow-matching model") != std::string::npos);
  }
  r = run(std::string(SCORE) + " " + (out / "samples.npy").string() + " --labels " + (out / "labels.npy").string() +
          " --classifier " + classifier.string() + " --data " + (d / "data").string());
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("classifier scores of 4 samples: accuracy") != std::string::npos);
  // A classifier of another data set (here: another MNIST-format set) is refused by score, in one sentence.
  synthetic::write_mnist_like(d / "other", "t10k", 30);
  r = run(std::string(SCORE) + " " + (out / "samples.npy").string() + " --classifier " + classifier.string() + " --data " +
          (d / "other").string());
  CHECK(r.status == 1);
  CHECK(r.output.find("was trained on another data set") != std::string::npos);
  // Samples that are not finite numbers and labels that are not classes are refused, naming the file.
  std::vector<float> samples(4 * 784, 0.5f);
  samples[100] = std::nanf("");
  unetflow::write_npy(d / "nan.npy", samples.data(), {4, 1, 28, 28});
  r = run(std::string(SCORE) + " " + (d / "nan.npy").string() + " --classifier " + classifier.string() + " --data " + (d / "data").string());
  CHECK(r.status == 1);
  CHECK(r.output.find("nan.npy holds a value that is not a finite number (nan at index 100)") != std::string::npos);
  const std::vector<std::int64_t> labels{1, 2, 12, 3};
  unetflow::write_npy(d / "labels12.npy", labels.data(), {4});
  r = run(std::string(SCORE) + " " + (out / "samples.npy").string() + " --labels " + (d / "labels12.npy").string() +
          " --classifier " + classifier.string() + " --data " + (d / "data").string());
  CHECK(r.status == 1);
  CHECK(r.output.find("labels12.npy holds the label 12 at index 2, neither a class 0-9 nor -1") != std::string::npos);
}

namespace {
// The header of a .npy file (its shape is in it).
std::string npy_header(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::string head(128, '\0');
  f.read(head.data(), 128);
  return head;
}
// A PNG's IHDR colour type: 0 grey, 2 RGB, 6 RGBA.
int png_colour_type(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  char head[26] = {};
  f.read(head, 26);
  return head[25];
}
// The mean loss of the first and of the last k steps in a loss CSV (step,loss,moving average).
std::pair<double, double> loss_ends(const fs::path& csv, int k) {
  std::ifstream f(csv);
  std::string line;
  std::getline(f, line);
  std::vector<double> losses;
  while (std::getline(f, line)) losses.push_back(std::stod(line.substr(line.find(',') + 1)));
  double first = 0, last = 0;
  for (int i = 0; i < k; ++i) {
    first += losses.at(std::size_t(i)) / k;
    last += losses.at(losses.size() - 1 - std::size_t(i)) / k;
  }
  return {first, last};
}
}  // namespace

TEST_CASE("a folder named fashion-mnist gets Fashion-MNIST's class names on its figures") {
  const auto d = data_dir();
  synthetic::write_mnist_like(d / "fashion-mnist", "train", 64);
  synthetic::write_mnist_like(d / "fashion-mnist", "t10k", 20);
  const auto r = run(std::string(TRAIN_FLOW) + " --classes --data " + (d / "fashion-mnist").string() + " --runs " +
                     (d / "runs_fashion").string() + " --hidden 16 --epochs 1 --batch 32 --steps-per-epoch 1 --sample-steps 1 --quiet");
  INFO(r.output);
  REQUIRE(r.status == 0);
  std::ifstream script(d / "runs_fashion" / "flow_class" / "d10_samples_epoch1.gp");
  const std::string gp((std::istreambuf_iterator<char>(script)), std::istreambuf_iterator<char>());
  CHECK(gp.find("Ankle boot") != std::string::npos);
  CHECK(gp.find("T-shirt/top") != std::string::npos);
  CHECK(r.output.find("classifier_fashion-mnist") != std::string::npos);  // where its classifier is looked for
}

TEST_CASE("the colour pipeline on a CIFAR-10 binary folder: classifier, 3x32x32 flow training (loss falls), colour grids, sample, score") {
  const auto d = data_dir();
  synthetic::write_cifar_like(d / "cifar", 40, 20);
  const auto runs = d / "runs_colour";
  const std::string io = " --data " + (d / "cifar").string() + " --runs " + runs.string();
  auto r = run(std::string(TRAIN_CLASSIFIER) + io + " --epochs 1 --batch 32 --quiet");
  INFO(r.output);
  REQUIRE(r.status == 0);
  REQUIRE(fs::exists(runs / "classifier_cifar" / "classifier.safetensors"));
  // train_flow finds the classifier of its data set by itself.
  r = run(std::string(TRAIN_FLOW) + " --classes" + io +
          " --hidden 16 --epochs 2 --batch 16 --steps-per-epoch 12 --lr 1e-2 --sample-steps 3 --per-digit 2 --quiet");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("classifier scores of 20 samples: accuracy") != std::string::npos);
  const auto dir = runs / "flow_class";
  check_files(dir, {"d9_loss.csv", "d9_loss.png", "d10_samples_epoch2.png", "d10_samples_epoch2.npy",
                    "d10_labels_epoch2.npy", "model-epoch2.safetensors", "checkpoint.safetensors"});
  const auto [first, last] = loss_ends(dir / "d9_loss.csv", 4);
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.8 * first);
  CHECK(png_colour_type(dir / "d10_samples_epoch2_tiles.png") == 2);
  CHECK(npy_header(dir / "d10_samples_epoch2.npy").find("(20, 3, 32, 32)") != std::string::npos);
  std::ifstream script(dir / "d10_samples_epoch2.gp");
  const std::string gp((std::istreambuf_iterator<char>(script)), std::istreambuf_iterator<char>());
  CHECK(gp.find("airplane") != std::string::npos);  // rows labelled with CIFAR-10's class names
  CHECK(gp.find("truck") != std::string::npos);
  std::ifstream summary_file(dir / "summary.json");
  const auto summary = nlohmann::json::parse(summary_file);
  CHECK(summary["config"]["model"] == "ClassTimeUNet<3,32,32,D=16,classes=10>");

  // sample reads the shape and the class names from the checkpoint.
  r = run(std::string(SAMPLE) + " " + (dir / "model-epoch2.safetensors").string() + " --digits 0,9,-1 --steps 2 --out " +
          (d / "colour_samples").string());
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(npy_header(d / "colour_samples" / "samples.npy").find("(3, 3, 32, 32)") != std::string::npos);
  CHECK(png_colour_type(d / "colour_samples" / "samples_tiles.png") == 2);
  std::ifstream sample_script(d / "colour_samples" / "samples.gp");
  const std::string sgp((std::istreambuf_iterator<char>(sample_script)), std::istreambuf_iterator<char>());
  CHECK(sgp.find("truck") != std::string::npos);
  r = run(std::string(SCORE) + " " + (d / "colour_samples" / "samples.npy").string() + " --data " + (d / "cifar").string() +
          " --classifier " + (runs / "classifier_cifar" / "classifier.safetensors").string());
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("classifier scores of 3 samples") != std::string::npos);

  // A run on MNIST digits cannot resume from this 3x32x32 model: one sentence naming both models.
  r = run(std::string(TRAIN_FLOW) + " --classes --data " + (d / "data").string() + " --runs " + runs.string() +
          " --hidden 16 --epochs 3 --batch 16 --steps-per-epoch 2 --quiet --resume");
  CHECK(r.status == 1);
  CHECK(r.output.find("ClassTimeUNet<3,32,32,D=16,classes=10>") != std::string::npos);
  CHECK(r.output.find("ClassTimeUNet<1,28,28,D=16,classes=10>") != std::string::npos);
  // A folder that holds no data set the programs know.
  fs::create_directories(d / "empty");
  r = run(std::string(TRAIN_FLOW) + " --data " + (d / "empty").string() + " --runs " + runs.string() + " --quiet");
  CHECK(r.status == 1);
  CHECK(r.output.find("holds neither MNIST-format IDX files") != std::string::npos);
}

TEST_CASE("bad input stops the examples with one sentence") {
  const auto d = data_dir();
  auto r = run(std::string(TRAIN_DENOISER) + " --hidden 17");
  CHECK(r.status != 0);
  CHECK(r.output.find("--hidden") != std::string::npos);
  fs::create_directories(d / "cut");
  fs::copy_file(d / "data" / "train-images-idx3-ubyte", d / "cut" / "train-images-idx3-ubyte", fs::copy_options::overwrite_existing);
  fs::copy_file(d / "data" / "train-labels-idx1-ubyte", d / "cut" / "train-labels-idx1-ubyte", fs::copy_options::overwrite_existing);
  fs::resize_file(d / "cut" / "train-images-idx3-ubyte", 5000);
  r = run(std::string(TRAIN_DENOISER) + " --data " + (d / "cut").string() + " --runs " + (d / "runs2").string() + tiny);
  CHECK(r.status == 1);
  CHECK(r.output.find("error: " + (d / "cut" / "train-images-idx3-ubyte").string() + " is truncated") != std::string::npos);

  // A test set with fewer images than a program needs stops it where the set is opened.
  synthetic::write_mnist_like(d / "few", "train", 64);
  synthetic::write_mnist_like(d / "few", "t10k", 3);
  r = run(std::string(TRAIN_DENOISER) + " --data " + (d / "few").string() + " --runs " + (d / "runs_few").string() + tiny);
  CHECK(r.status == 1);
  CHECK(r.output.find("holds 3 images, fewer than the 8 the figures show") != std::string::npos);
  r = run(std::string(NOISING_FIGURE) + " --digits 5 --data " + (d / "few").string() + " --runs " + (d / "runs_few").string());
  CHECK(r.status == 1);
  CHECK(r.output.find("holds 3 images, fewer than the 5 rows --digits asks for") != std::string::npos);
  r = run(std::string(TRAIN_CLASSIFIER) + " --data " + (d / "few").string() + " --runs " + (d / "runs_few").string() + " --epochs 1 --quiet");
  CHECK(r.status == 1);
  CHECK(r.output.find("holds 3 images, fewer than the 4") != std::string::npos);
}

TEST_CASE("flags: not-a-number and infinite values, and run names that leave --runs, are refused") {
  for (const char* flag : {" --gamma nan", " --gamma inf", " --lr nan", " --lr 0", " --lr x1", " --ema nan",
                           " --p-uncond nan", " --stats-batches 0", " --stats-batches 2.5", " --name ''",
                           " --name ../x", " --name a/b", " --name .."}) {
    const std::string bad = flag;
    auto r = run(std::string(TRAIN_FLOW) + bad);
    CHECK_MESSAGE(r.status != 0, bad);
    CHECK_MESSAGE(r.output.find(bad.substr(1, bad.find(' ', 1) - 1)) != std::string::npos, r.output);
  }
  auto r = run(std::string(TRAIN_FLOW) + " --lr 0");
  CHECK(r.output.find("'0' is not positive") != std::string::npos);
  CHECK(r.output.size() < 300);  // no 300-digit bound in the message
  r = run(std::string(SAMPLE) + " " + std::string(SAMPLE) + " --gamma nan");
  CHECK(r.status != 0);
  CHECK(r.output.find("not a finite number") != std::string::npos);
}

TEST_CASE("--device: a wrong value is refused, cuda where there is none stops with one sentence") {
  auto r = run(std::string(TRAIN_DENOISER) + " --device tpu");
  CHECK(r.status != 0);
  CHECK(r.output.find("--device") != std::string::npos);
  const auto d = data_dir();
  r = run(std::string(TRAIN_DENOISER) + " --device cuda --data " + (d / "data").string() + " --runs " + (d / "runs_cuda").string() + tiny);
  if (r.status != 0) {  // a machine with a GPU and the CUDA build trains (status 0); elsewhere:
    CHECK(r.status == 1);
    const bool said = r.output.find("error: --device cuda: this build has no CUDA backend") != std::string::npos ||
                      r.output.find("error: the CUDA backend needs a GPU") != std::string::npos;
    CHECK_MESSAGE(said, r.output);
  }
}

namespace {
// The values of every attribute `name` (src, href) in an HTML page.
std::vector<std::string> attribute_values(const std::string& html, const std::string& name) {
  std::vector<std::string> values;
  const std::string key = " " + name + "=\"";
  for (std::size_t at = html.find(key); at != std::string::npos; at = html.find(key, at + 1)) {
    const auto begin = at + key.size();
    values.push_back(html.substr(begin, html.find('"', begin) - begin));
  }
  return values;
}
int count_lines_with(const std::string& text, const std::string& a, const std::string& b) {
  int n = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const auto line = text.substr(start, end - start);
    n += line.find(a) != std::string::npos && line.find(b) != std::string::npos;
    start = end + 1;
  }
  return n;
}
}  // namespace

TEST_CASE("report: runs with a missing or damaged summary.json are shown missing with one warning each, the site is relative") {
  const auto d = data_dir();
  const auto runs = d / "runs_report";
  fs::remove_all(runs);
  auto r = run(std::string(NOISING_FIGURE) + " --data " + (d / "data").string() + " --runs " + runs.string());
  REQUIRE(r.status == 0);
  write_text(runs / "flow_time" / "summary.json", "{\"files\": {\"d7_loss.png\": ");   // truncated
  fs::create_directories(runs / "denoiser");                                             // no summary.json
  write_text(runs / "flow_class" / "summary.json", "[1, 2]");                            // not an object
  write_text(runs / "pure_noise" / "summary.json",                                       // readable, with bad fields
             R"({"files": {"../../etc/passwd": "x", "d5_loss.png": "loss"}, "training": {"final_loss": "low"}})");

  r = run(std::string(REPORT) + " --runs " + runs.string());
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(count_lines_with(r.output, "warning: ", "flow_time/summary.json is not valid JSON") == 1);
  CHECK(count_lines_with(r.output, "flow_time/summary.json", "D7, D8 are shown as missing") == 1);
  CHECK(count_lines_with(r.output, "warning: ", "denoiser/summary.json does not exist") == 1);
  CHECK(count_lines_with(r.output, "denoiser/summary.json", "D2, D3, D4, D6 (in part) are shown as missing") == 1);
  CHECK(count_lines_with(r.output, "warning: ", "flow_class/summary.json is not a JSON object") == 1);
  CHECK(count_lines_with(r.output, "warning: ", "\"../../etc/passwd\" is not a name inside the run folder") == 1);
  CHECK(count_lines_with(r.output, "warning: ", "d5_loss.png is listed in summary.json but is not on disk") == 1);
  CHECK(count_lines_with(r.output, "warning: ", "training.final_loss is not a number") == 1);
  // D1, D5 and D6 (in part) are there; Part 3's guidance sweep and emoji and PyTorch's examples P1, P2 and P3 are not
  CHECK(r.output.find("17 of 18 deliverables missing") == std::string::npos);
  CHECK(r.output.find("15 of 18 deliverables missing") != std::string::npos);

  const auto site = runs / "site";
  const std::string html = read_text(site / "index.html");
  for (int k = 1; k <= 13; ++k) CHECK_MESSAGE(html.find("id=\"d" + std::to_string(k) + "\"") != std::string::npos, k);
  CHECK(html.find("<section id=\"d1\" class=\"deliverable\">") != std::string::npos);
  CHECK(html.find("<section id=\"d7\" class=\"deliverable is-missing\">") != std::string::npos);
  CHECK(html.find("<section id=\"d5\" class=\"deliverable\">") != std::string::npos);
  CHECK(html.find("<code>build/examples/train_flow --data data/mnist --classes --no-scheduler --preset quick</code>") != std::string::npos);
  for (const char* id : {"g", "e"})
    CHECK_MESSAGE(html.find("<section id=\"" + std::string(id) + "\" class=\"deliverable is-missing\">") != std::string::npos, id);
  CHECK(html.find("--gamma-sweep 0,1,2,3,5,7.5 --data data/mnist</code>") != std::string::npos);
  // D12's measured recipe table stands without its run: every candidate, the chosen one at 0.46x Part 2's
  CHECK(html.find("What bought how much") != std::string::npos);
  CHECK(html.find("+ t drawn logit-normal: the chosen recipe") != std::string::npos);
  CHECK(html.find("86.7 (0.46×)") != std::string::npos);
  // the emoji runs' commands are scripts/part3.sh's
  CHECK(html.find("--data data/emoji --arch residual --hidden 32 --epochs 30 --flip --lr 2e-3 --ema 0.995 --stats-batches 4 --per-digit 8 --classes --name emoji_class</code>") != std::string::npos);
  // Self-contained and relative: every image and style sheet is inside the site, found again from a copy in another
  // folder; every link is to an anchor of the page.
  const auto copy = d / "site_copy";
  fs::remove_all(copy);
  fs::copy(site, copy, fs::copy_options::recursive);
  const auto srcs = attribute_values(html, "src");
  REQUIRE(srcs.size() == 1);  // D1's figure (D5's loss curve is not on disk)
  CHECK(srcs[0] == "img/noising/d1_noising.png");
  for (const auto& src : srcs) CHECK_MESSAGE(fs::is_regular_file(copy / src), src);
  for (const auto& href : attribute_values(html, "href")) {  // the style sheet, a figure at full size, or an anchor
    const bool anchor = href.size() > 1 && href[0] == '#' && html.find("id=\"" + href.substr(1) + "\"") != std::string::npos;
    CHECK_MESSAGE((anchor || href == "style.css" || (href.rfind("img/", 0) == 0 && fs::is_regular_file(copy / href))), href);
  }
  CHECK(fs::is_regular_file(copy / "style.css"));

  // A second build replaces the first whole, and leaves nothing beside it.
  fs::remove_all(runs / "flow_time");
  r = run(std::string(REPORT) + " --runs " + runs.string() + " --quiet");
  CHECK(r.status == 0);
  CHECK(r.output.find("flow_time") == std::string::npos);
  CHECK(read_text(site / "index.html").find("runs_report/flow_time/ does not exist (no run yet)") != std::string::npos);
  for (const auto& entry : fs::directory_iterator(runs)) CHECK(entry.path().filename().string().find("site.") == std::string::npos);

  // Flags and places that cannot work stop with one sentence; the site in place stays as it was.
  const std::string before = read_text(site / "index.html");
  r = run(std::string(REPORT) + " --runs " + (d / "no_such_runs").string());
  CHECK(r.status == 1);
  CHECK(r.output.find("no_such_runs: no such folder") != std::string::npos);
  r = run(std::string(REPORT) + " --runs " + runs.string() + " --out /proc/unetflow_site");
  CHECK(r.status == 1);
  CHECK(r.output.find("error: cannot") != std::string::npos);
  CHECK(read_text(site / "index.html") == before);
}
