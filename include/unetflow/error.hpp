#pragma once
#include <stdexcept>
#include <string>

namespace unetflow {

// Every failure the library reports on bad input: one sentence naming the thing and the problem.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace unetflow
