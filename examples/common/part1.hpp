#pragma once
// Part 1 of the assignment: train_denoiser (pure_noise = false) and train_pure_noise (pure_noise = true).

namespace examples {

int part1_main(int argc, char** argv, bool pure_noise);

}  // namespace examples
