// Part 2: flow matching. `train_flow` -> D7, D8; `train_flow --classes` -> D9, D10;
// `train_flow --classes --no-scheduler` -> D11. `--help` lists the flags.
#include "common/part2.hpp"

int main(int argc, char** argv) { return examples::part2_main(argc, argv); }
