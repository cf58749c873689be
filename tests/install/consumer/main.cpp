// An installed unetflow used as a user would: a model forward, then its output written as an .npy and as a
// figure, both read back.
#include <cstdio>
#include <filesystem>
#include <unetflow/io/figures.hpp>
#include <unetflow/io/npy.hpp>
#include <unetflow/unetflow.hpp>

int main(int argc, char** argv) {
  using namespace unetflow;
  const std::filesystem::path out = argc > 1 ? argv[1] : ".";
  TimeUNet<1, 28, 28, 4> net;
  Rng rng(0);
  reset_parameters(net, rng);
  Tensor<Shape<1, 28, 28>, cpu> x(2);
  Tensor<Vec<1>, cpu> t(2);
  rng.fill_normal(x.data(), x.numel());
  rng.fill_uniform(t.data(), t.numel());
  auto y = net.forward(x.view(), t.view());
  write_npy(out / "y.npy", y.data, {2, 1, 28, 28});
  const auto back = read_npy<float>(out / "y.npy");
  write_tiles_png(out / "y.png", y.data, 1, 2, 28, 28);
  const bool ok = parameter_count(net) > 0 && back.size() == 2 * 784 && back[5] == y.data[5] &&
                  std::filesystem::file_size(out / "y.png") > 100;
  std::printf("consumer: %lld parameters, y[0] = %g, y.npy %zu values, y.png %lld bytes\n",
              (long long)parameter_count(net), double(y.data[0]), back.size(),
              (long long)std::filesystem::file_size(out / "y.png"));
  return ok ? 0 : 1;
}
