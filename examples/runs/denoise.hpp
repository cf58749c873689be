#pragma once
// Part 1 of the assignment: train_denoiser (D2, D3, D4, D6) and train_pure_noise (D5, D6). The programs call
// part1_main, which parses the flags; the run, part1_run<B> (denoise_impl.hpp), trains the UNet of the width asked
// for and writes its figures, compiled once per backend (denoise_instance.cpp.in).
#include <string>

#include "support/cli.hpp"
#include "support/flags.hpp"

namespace examples {

struct Part1Flags {
  TrainFlags train;
  double sigma = 0.5;
  bool pure_noise = false;
  std::string command_line;
};

template <class B>
int part1_run(const Part1Flags& f);

inline int part1_main(int argc, char** argv, bool pure_noise) {
  use_program_wait_policy(argv);
  CLI::App app{pure_noise ? "Part 1.2.3: train the UNet to 'denoise' pure noise (D5, D6)"
                          : "Part 1.2.1-1.2.2: train the single-step denoising UNet at sigma = 0.5 (D2, D3, D4, D6)"};
  Part1Flags f;
  f.pure_noise = pure_noise;
  f.train.name = pure_noise ? "pure_noise" : "denoiser";
  f.train.add_to(app, TrainFlags::DataKinds::mnist_only);
  if (!pure_noise)
    app.add_option("--sigma", f.sigma, "noise level of training")
        ->check(finite_number & CLI::Range(0.0, 10.0))
        ->capture_default_str();
  EXAMPLES_PARSE_FLAGS(app, argc, argv);
  TrainFlags quick;
  quick.epochs = 5;
  quick.batch = 128;
  quick.hidden = 32;
  quick.steps_per_epoch = 24;
  quick.eval_images = 2000;
  quick.lr = 1e-3;
  f.train.apply_preset(app, quick);
  f.command_line = command_line_of(argc, argv);
  return guarded([&] {
    f.train.apply_threads();
    return with_backend(f.train.device, [&]<class B>() { return part1_run<B>(f); });
  });
}

}  // namespace examples
