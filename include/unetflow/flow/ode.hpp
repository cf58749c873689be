#pragma once
// Fixed-step solvers for the flow's ODE dx/dt = u(x, t), t from 0 to 1 in `steps` steps of h = 1 / steps:
//   euler     x += h k1                                              1 evaluation per step, error O(h)
//   midpoint  x += h u(x + h/2 k1, t + h/2)                          2 evaluations,         error O(h^2)
//   heun      x += h/2 (k1 + u(x + h k1, t + h))                      2 evaluations,         error O(h^2)
//   rk4       x += h/6 (k1 + 2 k2 + 2 k3 + k4), the classical Runge-Kutta   4 evaluations,  error O(h^4)
// with k1 = u(x, t). The field is called as u(point, t, out): it writes the velocity at `point` (which the
// solver always passes in the same buffer, so a recorded model evaluation can be replayed) into `out`.
#include <array>
#include <string>

#include "../error.hpp"
#include "../tensor.hpp"

namespace unetflow {

enum class Solver { euler, midpoint, heun, rk4 };

inline int evaluations_per_step(Solver s) {
  switch (s) {
    case Solver::euler:
      return 1;
    case Solver::midpoint:
    case Solver::heun:
      return 2;
    case Solver::rk4:
      return 4;
  }
  return 1;
}
inline const char* solver_name(Solver s) {
  switch (s) {
    case Solver::euler:
      return "euler";
    case Solver::midpoint:
      return "midpoint";
    case Solver::heun:
      return "heun";
    case Solver::rk4:
      return "rk4";
  }
  return "?";
}
// The solver a name (a flag's value) names; unetflow::Error for any other.
inline Solver solver_from_name(const std::string& name) {
  for (Solver s : {Solver::euler, Solver::midpoint, Solver::heun, Solver::rk4})
    if (name == solver_name(s)) return s;
  throw Error("solver '" + name + "' is not one of euler, midpoint, heun, rk4.");
}

// The buffers a solver needs beside x, sized for the largest batch they have seen (no allocation once there).
template <class S, class B>
struct OdeWorkspace {
  Tensor<S, B> point;             // where the field is evaluated
  std::array<Tensor<S, B>, 4> k;  // the stage velocities
};

// Integrates x (contiguous, updated in place) from t = 0 to 1.
template <class B, class S, class T, class Field>
void integrate(Solver solver, View<S, T> x, int steps, Field&& u, OdeWorkspace<S, B>& w) {
  if (steps < 1) throw Error("integrate: " + std::to_string(steps) + " steps; give at least one.");
  const int n = x.n;
  const std::ptrdiff_t len = x.numel();
  auto point = w.point.resize(n);
  View<S, T> k[4];
  for (int i = 0; i < evaluations_per_step(solver); ++i) k[i] = w.k[std::size_t(i)].resize(n);
  const T h = T(1) / T(steps);
  // k[i] = u(x + c * k[j], t): the point is formed in its own buffer.
  auto stage = [&](int i, double t, const View<S, T>* from, T c) {
    B::copy(x.data, point.data, len);
    if (from) B::blend(point.data, from->data, len, T(1), c);
    u(View<S, const T>(point), t, k[i]);
  };
  for (int s = 0; s < steps; ++s) {
    const double t = double(s) / steps, dt = 1.0 / steps;
    stage(0, t, nullptr, T(0));
    switch (solver) {
      case Solver::euler:
        B::blend(x.data, k[0].data, len, T(1), h);
        break;
      case Solver::midpoint:
        stage(1, t + dt / 2, &k[0], h / 2);
        B::blend(x.data, k[1].data, len, T(1), h);
        break;
      case Solver::heun:
        stage(1, t + dt, &k[0], h);
        B::blend(x.data, k[0].data, len, T(1), h / 2);
        B::blend(x.data, k[1].data, len, T(1), h / 2);
        break;
      case Solver::rk4:
        stage(1, t + dt / 2, &k[0], h / 2);
        stage(2, t + dt / 2, &k[1], h / 2);
        stage(3, t + dt, &k[2], h);
        B::blend(x.data, k[0].data, len, T(1), h / 6);
        B::blend(x.data, k[1].data, len, T(1), h / 3);
        B::blend(x.data, k[2].data, len, T(1), h / 3);
        B::blend(x.data, k[3].data, len, T(1), h / 6);
        break;
    }
  }
}

}  // namespace unetflow
