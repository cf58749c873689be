// The site's sections of Part 1 (D1-D6): the denoiser and the pure-noise denoiser.
#include "section_builder.hpp"

namespace report {

json d1(Builder& b) {
  auto s = b.section("D1", "Noising: test digits at increasing σ", {"noising"},
                     {"build/examples/noising_figure --data data/mnist"});
  if (const auto* r = b.run("noising")) {
    const auto sigmas = r->numbers({"config", "sigmas"});
    const auto digits = r->number({"config", "digits"});
    b.figure(s, *r, files::d1_noising + ".png",
             or_dash(digits, count) + " test digits (rows), noised as z = x + σε with σ = " + sigma_list(sigmas) +
                 " (columns, left to right); seed " + r->text({"config", "seed"}).value_or("—") + data_phrase(*r) +
                 ".");
  }
  return s;
}

const std::string denoiser_command = "build/examples/train_denoiser --data data/mnist --preset quick";
const std::string pure_noise_command = "build/examples/train_pure_noise --data data/mnist --preset quick";

json d2(Builder& b) {
  auto s = b.section("D2", "Training loss of the σ = 0.5 denoiser", {"denoiser"}, {denoiser_command});
  if (const auto* r = b.run("denoiser")) {
    b.figure(s, *r, files::d2_loss + ".png",
             "Training loss (MSE) of every step and its moving average: " + model_phrase(*r) +
                 ", σ = " + or_dash(r->number({"config", "sigma"}), [](double x) { return fixed(x, 2); }) + ", batch " +
                 or_dash(r->number({"config", "batch"}), count) + ", Adam lr " +
                 or_dash(r->number({"config", "lr"}), plain) + ".");
    s["tables"].push_back(training_table(*r));
  }
  return s;
}

json d3(Builder& b) {
  auto s = b.section("D3", "Denoised test digits at σ = 0.5", {"denoiser"}, {denoiser_command});
  if (const auto* r = b.run("denoiser")) {
    for (int e : listed_epochs(*r, files::epoch_prefix(files::d3_results), ".png"))
      b.figure(
          s, *r, files::at(files::d3_results, e) + ".png",
          "Test digits after " + of_epochs(*r, e) + ": clean (top row), noisy at σ = 0.5 (middle), denoised (bottom).");
    json t = table("Test-set MSE after the last epoch", {"measure", "value"});
    add_row(t, {"test images", or_dash(r->number({"test", "images"}), count)});
    add_row(t, {"σ", or_dash(r->number({"test", "sigma"}), [](double x) { return fixed(x, 2); })});
    add_row(t, {"MSE of the noisy input", or_dash(r->number({"test", "mse_noisy_input"}), significant)});
    add_row(t, {"MSE of the denoised output", or_dash(r->number({"test", "mse_denoised"}), significant)});
    add_row(t,
            {"improvement", or_dash(r->number({"test", "improvement"}), [](double x) { return fixed(x, 2) + "×"; })});
    s["tables"].push_back(t);
  }
  return s;
}

json d4(Builder& b) {
  auto s = b.section("D4", "Out of distribution: the σ = 0.5 denoiser at other σ", {"denoiser"}, {denoiser_command});
  if (const auto* r = b.run("denoiser"))
    b.figure(s, *r, files::d4_out_of_distribution + ".png",
             "The same test digits noised at σ = 0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0 (columns), each digit's noisy input "
             "above its "
             "denoised output, all by the model trained at σ = 0.5 (" +
                 of_epochs(*r, int(r->number({"training", "epochs_completed"}).value_or(0))) + ").");
  return s;
}

json d5(Builder& b) {
  auto s = b.section("D5", "A denoiser of pure noise draws the mean digit", {"pure_noise"}, {pure_noise_command});
  const auto* r = b.run("pure_noise");
  if (!r) return s;
  b.figure(s, *r, files::d5_loss + ".png",
           "Training loss of the pure-noise denoiser (input z = ε, target x): " + model_phrase(*r) + ".");
  for (int e : listed_epochs(*r, files::epoch_prefix(files::d5_samples), ".png"))
    b.figure(s, *r, files::at(files::d5_samples, e) + ".png",
             "After " + of_epochs(*r, e) + ": pure-noise inputs (top row) and the model's outputs (bottom).");
  b.figure(s, *r, files::d5_centroid + ".png",
           "The mean training digit (left) beside the average of the model's outputs (right).");
  const auto to_mean = r->number({"centroid", "mse_output_to_mean_training_digit"});
  const auto test_to_mean = r->number({"centroid", "mse_test_digit_to_mean_training_digit"});
  const auto spread = r->number({"centroid", "mse_output_to_average_output"});
  json t = table("Where the outputs are (MSE per pixel)", {"measure", "value"});
  add_row(t, {"pure-noise inputs", or_dash(r->number({"centroid", "images"}), count)});
  add_row(t, {"output to the mean training digit", or_dash(to_mean, significant)});
  add_row(t, {"real test digit to the mean training digit", or_dash(test_to_mean, significant)});
  add_row(t, {"output to the average output", or_dash(spread, significant)});
  s["tables"].push_back(t);
  s["tables"].push_back(training_table(*r));
  s["answer_title"] = "Why the output is the mean digit";
  s["answer"].push_back(
      {{"p",
        "With pure noise as input, z carries no information about the target x: the two are independent. "
        "The loss E‖D(z) − x‖² then splits, for every z, into ‖D(z) − E[x]‖² + E‖x − E[x]‖², and only the "
        "first term depends on the model. It is smallest at D(z) = E[x] for every z: the pixel-wise mean of "
        "the training digits, a blurred overlay of all ten. The model learns to ignore its input and draw that "
        "one image, and the loss cannot go below the data's variance around its mean."}});
  if (to_mean && test_to_mean && spread)
    s["answer"].push_back(
        {{"p", "Measured here: the outputs lie at a mean squared distance of " + significant(*to_mean) +
                   " per pixel from the mean training digit, against " + significant(*test_to_mean) +
                   " for real test digits, and differ from their own average by only " + significant(*spread) +
                   ": every output is nearly the same image."}});
  return s;
}

json d6(Builder& b) {
  auto s = b.section("D6", "A checkpoint every epoch, and exact resume", {"denoiser", "pure_noise"},
                     {denoiser_command, pure_noise_command});
  json t = table("Checkpoints on disk", {"run", "epochs completed", "weights per epoch", "checkpoint.safetensors"});
  for (const char* name : {"denoiser", "pure_noise"}) {
    const auto* r = b.run(name);
    if (!r) continue;
    int per_epoch = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(r->dir(), ec)) {
      const auto f = entry.path().filename().string();
      per_epoch += f.rfind("model-epoch", 0) == 0 && entry.path().extension() == ".safetensors";
    }
    const auto checkpoint = r->dir() / "checkpoint.safetensors";
    const auto bytes = fs::is_regular_file(checkpoint, ec) ? fs::file_size(checkpoint, ec) : 0;
    add_row(t, {name, or_dash(r->number({"training", "epochs_completed"}), count), std::to_string(per_epoch),
                bytes ? fixed(double(bytes) / 1e6, 2) + " MB" : "absent"});
  }
  s["tables"].push_back(t);
  s["notes"].push_back(
      {{"p",
        "After every epoch a training run writes checkpoint.safetensors (the model, Adam's moments, the "
        "learning-rate schedule, the random generators and the progress: epoch and batch) and keeps that "
        "epoch's weights as model-epochK.safetensors; every file is written to a temporary name and renamed, "
        "so an interruption never leaves a partial checkpoint. The same command with --resume continues the run "
        "and ends byte-identical to a run that was never stopped, also after kill -9 (the trainer's tests "
        "check both). PyTorch loads the weights (load_file from safetensors)."}});
  return s;
}

}  // namespace report
