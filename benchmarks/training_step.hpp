#pragma once
// The three training steps that benchmarks/torch_steps.py times in PyTorch, written against the library:
// draw the batch's noise (and t, c), forward, MSE, backward, Adam. Inputs are fixed random images, as there.
#include <memory>
#include <unetflow/unetflow.hpp>

namespace bench {

using namespace unetflow;

template <class Model>
struct TrainingStep {
  using In = typename Model::In;
  std::unique_ptr<Model> model = std::make_unique<Model>();
  Rng rng{0};  // before adam: adam's initialiser draws the parameters from it
  Adam<cpu> adam;
  int n;
  Tensor<In, cpu> x1, noise, input, target, grad;
  Tensor<Vec<1>, cpu> t;
  Tensor<typename Model::ClassIn, cpu> c;
  MseLoss<cpu> mse;  // holds the loss: nothing allocated per step

  TrainingStep(int batch, double lr)
      : adam((reset_parameters(*model, rng), *model), {.lr = lr}), n(batch), x1(batch), noise(batch), input(batch),
        target(batch), grad(batch), t(batch), c(batch) {
    rng.fill_uniform(x1.data(), x1.numel());
  }

  double operator()() {
    rng.fill_normal(noise.data(), noise.numel());
    const std::ptrdiff_t len = In::size;
    float *xi = input.data(), *tg = target.data();
    const float *a = x1.data(), *e = noise.data();
    View<In, float> y;
    if constexpr (Model::time_conditioned) {
      rng.fill_uniform(t.data(), n);
      for (int s = 0; s < n; ++s)
        for (std::ptrdiff_t i = s * len; i < (s + 1) * len; ++i) {
          xi[i] = (1 - t.data()[s]) * e[i] + t.data()[s] * a[i];
          tg[i] = a[i] - e[i];
        }
      if constexpr (Model::classes > 0) {
        cpu::fill(c.data(), c.numel(), 0.f);
        for (int s = 0; s < n; ++s) c.data()[s * Model::classes + rng.below(Model::classes)] = 1;
        y = model->forward(input.view(), t.view(), c.view());
      } else {
        y = model->forward(input.view(), t.view());
      }
    } else {
      for (std::ptrdiff_t i = 0; i < n * len; ++i) {
        xi[i] = a[i] + 0.5f * e[i];
        tg[i] = a[i];
      }
      y = model->forward(input.view());
    }
    mse(y, target.view(), grad.view());
    const double loss = mse.value();
    adam.zero_grad();
    model->backward(grad.view());
    adam.step();
    return loss;
  }
};

}  // namespace bench
