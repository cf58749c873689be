// The first program: a class-conditioned UNet, one training step and a checkpoint. Every intermediate shape is a
// type; the batch is the only run-time size.   first_program [output-dir]
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <unetflow/unetflow.hpp>

using namespace unetflow;

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : ".";
  ClassTimeUNet<1, 28, 28, /*D=*/16, /*classes=*/10> net;
  Rng rng(0);
  reset_parameters(net, rng);  // PyTorch's default initialisation
  Adam<cpu> adam(net, {.lr = 1e-2});

  const int n = 8;
  Tensor<Shape<1, 28, 28>, cpu> x(n), target(n), grad(n);  // Tensor(n): n samples of zeros
  Tensor<Vec<1>, cpu> t(n);
  Tensor<Vec<10>, cpu> c(n);  // all zeros: no class
  fill_normal(x, rng);
  fill_normal(target, rng);
  fill_uniform(t, rng);

  auto y = net.forward(x.view(), t.view(), c.view());  // View<Shape<1, 28, 28>, float>, owned by net
  const double loss = mse_loss<cpu>(y, target.view(), grad.view());
  adam.zero_grad();
  net.backward(grad.view());
  adam.step();
  save_checkpoint(dir / "model.safetensors", {{"model", "ClassTimeUNet D=16"}}, part("", net), part("optim.", adam));
  std::printf("%lld parameters, loss %.4f, checkpoint %s\n", (long long)parameter_count(net), loss,
              (dir / "model.safetensors").c_str());
  return std::isfinite(loss) && loss > 0 ? 0 : 1;
}
