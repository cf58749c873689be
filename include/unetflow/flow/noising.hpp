#pragma once
// Part 1 of the assignment: the noising process z = x + sigma * eps (eps ~ N(0, I), drawn per batch) and the
// single-step denoiser's training objective ||D(z) - x||^2. With pure_noise the input carries no information
// about x (z = eps): the MSE-optimal output is then the mean training image.
#include "../layers/mse_loss.hpp"
#include "../random.hpp"
#include "../tensor.hpp"

namespace unetflow {

// out = x + sigma * eps, eps drawn from rng (x and out may alias).
template <class S, class T, class U>
void add_noise(View<S, U> x, double sigma, Rng& rng, View<S, T> out) {
  for (int s = 0; s < x.n; ++s)
    for (std::ptrdiff_t i = 0; i < S::size; ++i) out.sample(s)[i] = T(x.sample(s)[i] + sigma * rng.normal());
}

template <class Model>
class DenoiseTask {
 public:
  using In = typename Model::In;
  using B = typename Model::backend;
  using T = typename B::scalar;

  double sigma = 0.5;
  bool pure_noise = false;

  DenoiseTask(double sigma_, bool pure_noise_) : sigma(sigma_), pure_noise(pure_noise_) {}

  // One objective evaluation on a clean batch: forward, loss, backward (parameter gradients accumulate).
  double step(Model& model, View<In, const T> x, const std::uint8_t* /*labels*/, Rng& rng) {
    const int n = x.n;
    auto z = input_.resize(n);
    if (pure_noise) {
      rng.fill_normal(z.data, z.numel());
    } else {
      add_noise(x, sigma, rng, z);
    }
    auto y = model.forward(z);
    auto g = grad_.resize(n);
    const double loss = mse_loss<B>(y, x, g);
    model.backward(g);
    return loss;
  }

 private:
  Tensor<In, B> input_, grad_;
};

}  // namespace unetflow
