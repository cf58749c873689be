#include <cstdio>
#include <unetflow/unetflow.hpp>

int main() {
  using namespace unetflow;
  TimeUNet<1, 28, 28, 4> net;
  Rng rng(0);
  reset_parameters(net, rng);
  Tensor<Shape<1, 28, 28>, cpu> x(2);
  Tensor<Vec<1>, cpu> t(2);
  rng.fill_normal(x.data(), x.numel());
  rng.fill_uniform(t.data(), t.numel());
  auto y = net.forward(x.view(), t.view());
  std::printf("consumer: %lld parameters, y[0] = %g\n", (long long)parameter_count(net), double(y.data[0]));
  return parameter_count(net) == 0;
}
