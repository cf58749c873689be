// Part 1.2.3: the same UNet trained on pure-noise inputs -> D5 (loss curve, samples after epochs 1 and 5, the
// distance of its outputs to the mean training digit), D6. `--help` lists the flags.
#include "runs/denoise.hpp"

int main(int argc, char** argv) { return examples::part1_main(argc, argv, true); }
