#pragma once
// Part 1's run (denoise.hpp), included only by the per-backend instance files.
#include "runs/denoise.hpp"
#include "support/deliverable_files.hpp"
#include "support/images.hpp"
#include "support/programs.hpp"

namespace examples {

template <int D, class B>
int run_part1(const Part1Flags& f) {
  using Model = UNet<1, 28, 28, D, B>;
  using In = typename Model::In;
  const TrainFlags& flags = f.train;
  const auto train = load_mnist(flags.data, Split::train);
  const auto test = load_mnist(flags.data, Split::test);
  check_images_fit<In>(test, "the test set");
  constexpr int shown = 8;  // test digits in the figures
  require_images(test, shown, "the test set", "the figures show");

  auto model = std::make_unique<Model>();
  Rng init(flags.seed, 2);
  reset_parameters(*model, init);
  DenoiseTask<Model> task(f.sigma, f.pure_noise);
  const std::string model_name = "UNet<1,28,28,D=" + std::to_string(D) + ">";
  Trainer<Model, DenoiseTask<Model>, ProcessComm> trainer(
      *model, task, train, train_options(flags),
      {{"model", model_name}, {"task", f.pure_noise ? "pure_noise" : "denoise"}}, process_comm_for<B>(flags));
  RunSummary summary(flags.run_dir(), trainer.writes_outputs());
  summary["deliverables"] = f.pure_noise ? "D5, D6" : "D2, D3, D4, D6";
  summary["config"] = {{"model", model_name},
                       {"parameters", parameter_count(*model)},
                       {"preset", flags.preset},
                       {"epochs", flags.epochs},
                       {"batch", flags.batch},
                       {"lr", flags.lr},
                       {"sigma", f.sigma},
                       {"pure_noise", f.pure_noise},
                       {"steps_per_epoch", trainer.steps_per_epoch()},
                       {"seed", flags.seed},
                       {"threads", omp_get_max_threads()},
                       {"device", device_description<B>()},
                       {"data", flags.data}};

  const auto digits = gather(test, first_indices(shown));
  std::vector<std::string> digit_labels;
  for (int i = 0; i < shown; ++i) digit_labels.push_back("digit " + std::to_string(test.labels[std::size_t(i)]));
  auto eval_forward = [&](View<In, const float> x) {
    auto evaluation = eval_mode(*model);  // the trainer's model goes on in the mode it was in
    return model->forward(x);
  };

  auto on_epoch_end = [&](int epoch) {
    if (epoch != 1 && epoch != flags.epochs) return;
    const std::string tag = files::epoch_tag(epoch);
    Rng noise(flags.seed, 3);  // the same noise at every epoch, so the figures compare
    if (!f.pure_noise) {
      // D3: clean / noisy / denoised test digits.
      std::vector<float> grid(3 * digits.size());
      std::copy(digits.begin(), digits.end(), grid.begin());
      View<In, float> noisy{grid.data() + digits.size(), shown};
      add_noise(View<In, const float>{digits.data(), shown}, f.sigma, noise, noisy);
      auto out = map_batches<In, B>(noisy.data, shown, shown, eval_forward);
      std::copy(out.begin(), out.end(), grid.begin() + 2 * std::ptrdiff_t(digits.size()));
      write_npy(
          summary.file(files::d3_results + tag + ".npy", "D3: [3 (clean, noisy, denoised), 8, 28, 28] after " + tag),
          grid.data(), {3, shown, 28, 28});
      write_labelled_grid(
          summary.file(files::d3_results + tag + ".png", "D3 figure after " + tag),
          "Denoising test digits at sigma = " + fmt(f.sigma, 1) + " after epoch " + std::to_string(epoch), grid.data(),
          3, shown, 28, 28, {"clean", "noisy", "denoised"}, digit_labels);
    } else {
      // D5: what the model makes of pure noise.
      std::vector<float> grid(2 * digits.size());
      noise.fill_normal(grid.data(), std::ptrdiff_t(digits.size()));
      auto out = map_batches<In, B>(grid.data(), shown, shown, eval_forward);
      std::copy(out.begin(), out.end(), grid.begin() + std::ptrdiff_t(digits.size()));
      write_npy(summary.file(files::d5_samples + tag + ".npy", "D5: [2 (input noise, output), 8, 28, 28] after " + tag),
                grid.data(), {2, shown, 28, 28});
      std::vector<std::string> cols;
      for (int i = 0; i < shown; ++i) cols.push_back("sample " + std::to_string(i + 1));
      write_labelled_grid(summary.file(files::d5_samples + tag + ".png", "D5 samples after " + tag),
                          "Pure-noise denoiser after epoch " + std::to_string(epoch) + ": input z = noise, output D(z)",
                          grid.data(), 2, shown, 28, 28, {"input (noise)", "output"}, cols);
    }
    summary.write();
  };

  const auto outcome = trainer.run(on_epoch_end);
  if (!trainer.writes_outputs()) return outcome == decltype(trainer)::Outcome::interrupted ? 130 : 0;
  // D2 / D5: the loss curve of the whole run.
  record_training(summary, trainer, flags, f.pure_noise ? files::d5_loss : files::d2_loss,
                  std::string(f.pure_noise ? "Pure-noise denoiser" : "Denoiser, sigma = " + fmt(f.sigma, 1)) +
                      ": training loss (" + model_name + ", batch " + std::to_string(flags.batch) + ")");
  if (outcome == decltype(trainer)::Outcome::interrupted) {
    summary.write();
    return resume_hint(trainer, flags, f.command_line);
  }

  const int n_eval = std::min(flags.eval_images, test.n);
  const auto eval_set = gather(test, first_indices(n_eval));
  if (!f.pure_noise) {
    // Test-set MSE at sigma against the clean images: the noisy input's and the model's.
    std::vector<float> noisy(eval_set.size());
    Rng noise(flags.seed, 4);
    add_noise(View<In, const float>{eval_set.data(), n_eval}, f.sigma, noise, View<In, float>{noisy.data(), n_eval});
    const auto denoised = map_batches<In, B>(noisy.data(), n_eval, 256, eval_forward);
    const double mse_noisy = mse(noisy, eval_set), mse_model = mse(denoised, eval_set);
    summary["test"] = {{"images", n_eval},
                       {"sigma", f.sigma},
                       {"mse_noisy_input", mse_noisy},
                       {"mse_denoised", mse_model},
                       {"improvement", mse_noisy / mse_model}};
    std::printf("test MSE at sigma=%.2f over %d images: noisy input %.5f, denoised %.5f (%.1fx lower)\n", f.sigma,
                n_eval, mse_noisy, mse_model, mse_noisy / mse_model);

    // D4: the same digits at other noise levels through the sigma = 0.5 model.
    const std::vector<double> sigmas{0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0};
    constexpr int rows_per = 2, count = 4;
    const int cols = int(sigmas.size());
    std::vector<float> grid(std::size_t(rows_per * count * cols) * In::size);
    Rng noise4(flags.seed, 5);
    for (int j = 0; j < cols; ++j) {
      std::vector<float> noisy_j(std::size_t(count) * In::size);
      add_noise(View<In, const float>{digits.data(), count}, sigmas[std::size_t(j)], noise4,
                View<In, float>{noisy_j.data(), count});
      const auto out = map_batches<In, B>(noisy_j.data(), count, count, eval_forward);
      for (int d = 0; d < count; ++d) {
        std::copy_n(noisy_j.begin() + d * In::size, In::size, grid.begin() + ((2 * d) * cols + j) * In::size);
        std::copy_n(out.begin() + d * In::size, In::size, grid.begin() + ((2 * d + 1) * cols + j) * In::size);
      }
    }
    std::vector<std::string> rows, col_labels;
    for (int d = 0; d < count; ++d) {
      rows.push_back(digit_labels[std::size_t(d)] + " noisy");
      rows.push_back(digit_labels[std::size_t(d)] + " denoised");
    }
    for (double s : sigmas) col_labels.push_back("sigma " + fmt(s, 1));
    write_npy(
        summary.file(files::d4_out_of_distribution + ".npy", "D4: [4 digits, 2 (noisy, denoised), 7 sigmas, 28, 28]"),
        grid.data(), {count, 2, sigmas.size(), 28, 28});
    write_labelled_grid(summary.file(files::d4_out_of_distribution + ".png", "D4 figure"),
                        "Out-of-distribution noise levels through the sigma = " + fmt(f.sigma, 1) + " denoiser",
                        grid.data(), rows_per * count, cols, 28, 28, rows, col_labels);
  } else {
    // D5 evidence: outputs for pure-noise inputs against the mean training digit (the MSE-optimal answer).
    std::vector<float> mean(In::size, 0.0f);
    for (int i = 0; i < train.n; ++i)
      for (int k = 0; k < In::size; ++k) mean[std::size_t(k)] += train.image(i)[k] / float(train.n);
    std::vector<float> inputs(eval_set.size());
    Rng noise(flags.seed, 4);
    noise.fill_normal(inputs.data(), std::ptrdiff_t(inputs.size()));
    const auto outputs = map_batches<In, B>(inputs.data(), n_eval, 256, eval_forward);
    double to_mean = 0, test_to_mean = 0, spread = 0;
    std::vector<float> avg_out(In::size, 0.0f);
    for (int i = 0; i < n_eval; ++i)
      for (int k = 0; k < In::size; ++k) {
        const double o = outputs[std::size_t(i) * In::size + k], m = mean[std::size_t(k)];
        to_mean += (o - m) * (o - m);
        test_to_mean += (eval_set[std::size_t(i) * In::size + k] - m) * (eval_set[std::size_t(i) * In::size + k] - m);
        avg_out[std::size_t(k)] += float(o / n_eval);
      }
    for (int i = 0; i < n_eval; ++i)
      for (int k = 0; k < In::size; ++k) {
        const double d = outputs[std::size_t(i) * In::size + k] - avg_out[std::size_t(k)];
        spread += d * d;
      }
    const double per = double(n_eval) * In::size;
    summary["centroid"] = {{"images", n_eval},
                           {"mse_output_to_mean_training_digit", to_mean / per},
                           {"mse_test_digit_to_mean_training_digit", test_to_mean / per},
                           {"mse_output_to_average_output", spread / per}};
    std::printf(
        "pure noise in, over %d inputs: MSE(output, mean training digit) = %.5f; for comparison "
        "MSE(test digit, mean training digit) = %.5f; outputs vary around their own average by %.5f\n",
        n_eval, to_mean / per, test_to_mean / per, spread / per);
    std::vector<float> pair(2 * In::size);
    std::copy(mean.begin(), mean.end(), pair.begin());
    std::copy(avg_out.begin(), avg_out.end(), pair.begin() + In::size);
    write_npy(summary.file(files::d5_centroid + ".npy", "D5: [2 (mean training digit, average output), 28, 28]"),
              pair.data(), {2, 28, 28});
    write_labelled_grid(
        summary.file(files::d5_centroid + ".png", "D5: the mean training digit beside the average output"),
        "Mean training digit vs average pure-noise output", pair.data(), 1, 2, 28, 28, {""},
        {"mean of training set", "average model output"});
  }
  summary.write();
  std::printf("outputs in %s (summary.json lists them)\n", flags.run_dir().c_str());
  return 0;
}

template <class B>
int part1_run(const Part1Flags& f) {
  return with_hidden(f.train.hidden, [&]<int D>() { return run_part1<D, B>(f); });
}

}  // namespace examples
