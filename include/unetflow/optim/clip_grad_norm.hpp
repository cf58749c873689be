#pragma once
// clip_grad_norm(model, max_norm): torch.nn.utils.clip_grad_norm_ — the global L2 norm of every parameter gradient
// of the model; when it exceeds max_norm, every gradient is scaled by max_norm / (norm + 1e-6). Returns the norm
// before clipping (what a training log shows). The sum of squares is in double, in backend memory, read once.
#include <cmath>
#include <memory>
#include <string>

#include "../backend/cpu_fwd.hpp"
#include "../error.hpp"
#include "../param.hpp"

namespace unetflow {

namespace detail {
template <class M>
struct ModelBackend {
  using type = cpu;
};
template <class M>
requires requires { typename M::backend; }
struct ModelBackend<M> {
  using type = typename M::backend;
};
}  // namespace detail

// B: the model's backend (M::backend; the CPU policy for a plain visitable object without one).
template <class M, class B = typename detail::ModelBackend<M>::type>
double clip_grad_norm(M& model, double max_norm) {
  using T = typename B::scalar;
  if (!(max_norm > 0)) throw Error("clip_grad_norm: max_norm must be above 0.");
  struct Free {
    void operator()(double* p) const { B::deallocate(p); }
  };
  std::unique_ptr<double, Free> sum(B::template allocate<double>(1));
  bool first = true;
  model.visit("", [&](const std::string&, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) {
      B::sum_squares(e.grad.data(), e.size, sum.get(), !first);
      first = false;
    }
  });
  if (first) return 0.0;
  const double norm = std::sqrt(B::read(sum.get()));
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1)
    model.visit("", [&](const std::string&, auto& e) {
      if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>)
        B::blend(e.grad.data(), e.grad.data(), e.size, T(coef), T(0));
    });
  return norm;
}

}  // namespace unetflow
