// Part 2: flow matching. `train_flow` -> D7, D8; `train_flow --classes` -> D9, D10;
// `train_flow --classes --no-scheduler` -> D11; `train_flow --better` -> D12. `--help` lists the flags. This file
// parses them; the runs are runs/flow.hpp's, compiled once per backend, image shape and model kind.
#include "runs/flow.hpp"
#include "support/cli.hpp"

namespace examples {

// D12: the recipe chosen by measurement (docs/part3.md).
struct BetterRecipe {
  std::string arch, solver, time_sampling;
  double ema;
  int sample_steps;
};
const BetterRecipe better_recipe{"every-level", "midpoint", "logit-normal", 0.999, 25};

}  // namespace examples

int main(int argc, char** argv) {
  using namespace examples;
  use_program_wait_policy(argv);
  CLI::App app{
      "Part 2: flow matching on MNIST (or --data: MNIST-format, CIFAR-10 binary or image folders). "
      "Time-conditioned (D7, D8); --classes: class-conditioned with classifier-free guidance (D9, D10); "
      "--classes --no-scheduler: without the LR schedule (D11)"};
  Part2Flags f;
  f.train.epochs = 10;
  f.train.batch = 64;
  f.train.hidden = 64;
  f.train.lr = 1e-2;
  f.train.add_to(app);
  app.add_flag("--classes", f.classes, "condition on the digit class too (p_uncond dropout, CFG sampling)");
  app.add_flag("--no-scheduler", f.no_scheduler,
               "constant learning rate (no ExponentialLR); defaults then become lr 3e-3 and --ema 0.999");
  app.add_option("--p-uncond", f.p_uncond, "probability of training without the class")
      ->check(finite_number & CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--gamma", f.gamma, "classifier-free guidance scale")->check(finite_number)->capture_default_str();
  app.add_option("--ema", f.ema, "decay of a moving average of the weights to sample from (0: none)")
      ->check(finite_number & CLI::Range(0.0, 0.99999));
  app.add_option("--ema-stats", f.ema_stats,
                 "batch-norm statistics of the EMA weights: recomputed for them over --stats-batches training "
                 "batches, averaged with them, or running (the trained model's, which belong to other weights)")
      ->check(CLI::IsMember({"running", "averaged", "recomputed"}))
      ->capture_default_str();
  app.add_option("--stats-batches", f.statistics_batches,
                 "--ema-stats recomputed: how many of the first training batches the statistics are recomputed "
                 "over (forward passes at every epoch's weights file)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--time-sampling", f.time_sampling,
                 "how training draws t: uniform (the assignment's) or logit-normal (sigmoid of a standard normal)")
      ->check(CLI::IsMember({"uniform", "logit-normal"}))
      ->capture_default_str();
  app.add_option("--sample-steps", f.sample_steps, "solver steps T of sampling")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  add_solver_flag(app, f.solver);
  app.add_option("--classifier", f.classifier,
                 "classifier that scores the samples (default: train_classifier's for --data)");
  app.add_option("--compare-with", f.compare_with,
                 "D11: run directory of the scheduled run to compare with (default: RUNS/flow_class)");
  app.add_flag("--better", f.better,
               "D12: the better time-only model of docs/part3.md (its --arch, --ema, --time-sampling, --solver, "
               "--sample-steps and --score-samples unless given), beside Part 2's model (--compare-with, default "
               "RUNS/flow_time)");
  app.add_option("--arch", f.arch,
                 "UNet: assignment (Part 2's), every-level (time at every level; time-only 1x28x28, D 16-64) or "
                 "residual (ResBlocks and attention: time-only 1x28x28, D 16-32; 3x32x32 either kind, D 32-64)")
      ->check(CLI::IsMember({"assignment", "every-level", "residual"}))
      ->capture_default_str();
  app.add_option("--score-samples", f.score_samples, "score the final model on this many samples (0: none)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  app.add_option("--per-digit", f.per_digit, "samples of each digit (class-conditioned)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  EXAMPLES_PARSE_FLAGS(app, argc, argv);
  if (f.better && f.classes) {
    std::fprintf(stderr, "error: --better is D12, a time-only model: drop --classes.\n");
    return 1;
  }
  if (f.no_scheduler && !f.classes) {
    std::fprintf(stderr, "error: --no-scheduler is the D11 variant of the class-conditioned run: add --classes.\n");
    return 1;
  }
  if (app.get_option("--name")->count() == 0)
    f.train.name = f.better         ? "flow_better"
                   : !f.classes     ? "flow_time"
                   : f.no_scheduler ? "flow_class_noscheduler"
                                    : "flow_class";
  if (f.classifier.empty()) f.classifier = default_classifier_for(f.train.data, f.train.runs).string();
  if (f.compare_with.empty())
    f.compare_with = (fs::path(f.train.runs) / (f.better ? "flow_time" : "flow_class")).string();
  if (f.better) {  // D12's recipe (docs/part3.md has the measurements behind it)
    auto unset = [&](const char* flag) { return app.get_option(flag)->count() == 0; };
    if (unset("--arch")) f.arch = better_recipe.arch;
    if (unset("--ema")) f.ema = better_recipe.ema;
    if (unset("--time-sampling")) f.time_sampling = better_recipe.time_sampling;
    if (unset("--solver")) f.solver = better_recipe.solver;
    if (unset("--sample-steps")) f.sample_steps = better_recipe.sample_steps;
    if (unset("--score-samples")) f.score_samples = 500;
  }
  if (f.no_scheduler) {
    if (app.get_option("--lr")->count() == 0) f.train.lr = 3e-3;
    if (app.get_option("--ema")->count() == 0) f.ema = 0.999;
  }
  // Quick: the narrowest UNet and 120 batches per epoch. For a fixed CPU budget more steps of a smaller model
  // beat fewer of a wider one (docs/part2.md has the measurements).
  TrainFlags quick = f.train;
  quick.hidden = 16;
  quick.steps_per_epoch = 120;
  quick.eval_images = 2000;
  f.train.apply_preset(app, quick);
  f.command_line = command_line_of(argc, argv);
  return guarded([&] {
    f.train.apply_threads();
    const auto train = open_data(f.train.data, Split::train);
    return with_image_shape(train, [&]<class In>() {
      return with_backend(f.train.device, [&]<class B>() {
        return f.classes ? train_flow_run<In, true, B>(f, train) : train_flow_run<In, false, B>(f, train);
      });
    });
  });
}
