#pragma once
// Part 2 of the assignment: flow matching with time (train_flow) and class conditioning (train_flow --classes),
// with or without the learning-rate schedule (--no-scheduler).

namespace examples {

int part2_main(int argc, char** argv);

}  // namespace examples
