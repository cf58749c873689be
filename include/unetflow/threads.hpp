#pragma once
// Threads. Every CPU kernel runs on OpenMP's team of threads.
//   set_threads(n)    the kernels use n threads from now on (1 <= n <= max_threads(); unetflow::Error otherwise)
//   threads()         how many the next kernel uses (OMP_NUM_THREADS, else one per core)
//   wait_policy()     how idle threads wait between kernels, as the OpenMP runtime read it at start
//   use_wait_policy(argv, policy)   starts the program again with OMP_WAIT_POLICY=policy unless the environment
//                     already sets it; call it first thing in main
// Why the wait policy matters: between two kernels libgomp's idle threads spin for a while (about 3 ms by default,
// minutes with "active") before they sleep. On a machine where other programs run, spinning threads take the
// cores the working threads need, and a step of many short kernels slows down many times over; "passive" threads
// sleep at once. The runtime reads OMP_WAIT_POLICY once, when it loads, so the policy cannot change later in the
// process: hence a fresh start. docs/library.md ("Threads") gives the measurements behind the programs' default.
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "error.hpp"

namespace unetflow {

// The most threads a program may ask for: four per core. More only wait for cores, and thousands overflow the
// OpenMP runtime's stacks or the machine's process limit.
inline int max_threads() { return 4 * std::max(1, omp_get_num_procs()); }

inline void set_threads(int n) {
  if (n < 1) throw Error("set_threads: " + std::to_string(n) + " threads; give at least one.");
  if (n > max_threads())
    throw Error("set_threads: " + std::to_string(n) + " threads is more than the " + std::to_string(max_threads()) +
                " allowed on this machine's " + std::to_string(omp_get_num_procs()) + " cores (four per core).");
  omp_set_num_threads(n);
}
inline int threads() { return omp_get_max_threads(); }

inline std::string wait_policy() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  if (!policy || !*policy) return "default (spin about 3 ms, then sleep)";
  return policy;
}

// Returns only when the policy is already in the environment, or when the program could not be started again
// (then it goes on with the runtime's default, and says so on stderr).
inline void use_wait_policy(char** argv, const char* policy = "passive") {
  const char* set = std::getenv("OMP_WAIT_POLICY");
  if (set && *set) return;
  if (setenv("OMP_WAIT_POLICY", policy, 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("OMP_WAIT_POLICY");
  std::fputs("unetflow: could not restart with OMP_WAIT_POLICY set; the OpenMP default applies.\n", stderr);
}

}  // namespace unetflow
