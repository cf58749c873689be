// Part 1.2.1-1.2.2: the single-step denoiser at sigma = 0.5 -> D2 (loss curve), D3 (test results after
// epochs 1 and 5), D4 (other noise levels), D6 (checkpoints and --resume). `--help` lists the flags.
#include "runs/denoise.hpp"

int main(int argc, char** argv) { return examples::part1_main(argc, argv, false); }
