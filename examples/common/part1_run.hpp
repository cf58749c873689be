#pragma once
// Part 1's run for one backend: the UNet of every built-in width trained as the denoiser (or on pure noise), with
// its figures. part1_run<B> is compiled once per backend (part1_instance.cpp.in); part1.cpp only parses flags.
#include <cstdio>
#include <string>
#include <vector>

#include "flags.hpp"

namespace examples {

struct Part1Flags {
  TrainFlags train;
  double sigma = 0.5;
  bool pure_noise = false;
  std::string command_line;
};

template <class B>
int part1_run(const Part1Flags& f);

}  // namespace examples
