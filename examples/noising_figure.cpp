// D1: test digits under the noising process z = x + sigma * eps for sigma = 0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0.
#include <unetflow/backend/cpu.hpp>
#include <unetflow/flow/noising.hpp>
#include <unetflow/io/figures.hpp>
#include <unetflow/io/npy.hpp>

#include "support/cli.hpp"
#include "support/deliverable_files.hpp"
#include "support/images.hpp"
#include "support/programs.hpp"

int main(int argc, char** argv) {
  examples::use_program_wait_policy(argv);
  using namespace examples;
  CLI::App app{"D1: the noising process on test digits"};
  std::string data = "data/mnist", runs = "runs", name = "noising";
  int count = 5;
  std::uint64_t seed = 0;
  app.add_option("--data", data, "directory with the MNIST IDX files")->capture_default_str();
  app.add_option("--runs", runs, "parent of the run directories")->capture_default_str();
  app.add_option("--name", name, "run name")->check(plain_name)->capture_default_str();
  app.add_option("--digits", count, "number of test digits (rows)")->check(CLI::Range(1, 20))->capture_default_str();
  app.add_option("--seed", seed, "noise seed")->capture_default_str();
  EXAMPLES_PARSE_FLAGS(app, argc, argv);
  return guarded([&] {
    apply_threads(0);  // OpenMP's own choice, checked
    using In = Shape<1, 28, 28>;
    const auto test = load_mnist(data, Split::test);
    check_images_fit<In>(test, "the test set");
    require_images(test, count, "the test set", "rows --digits asks for");
    const std::vector<double> sigmas{0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0};
    const int cols = int(sigmas.size());
    const auto digits = gather(test, first_indices(count));
    std::vector<float> grid(std::size_t(count * cols) * In::size);
    Rng rng(seed, 0);
    for (int r = 0; r < count; ++r)
      for (int c = 0; c < cols; ++c) {
        View<In, const float> x{digits.data() + r * In::size, 1};
        add_noise(x, sigmas[std::size_t(c)], rng, View<In, float>{grid.data() + (r * cols + c) * In::size, 1});
      }
    examples::RunSummary summary(fs::path(runs) / name);
    std::vector<std::string> rows, col_labels;
    for (int r = 0; r < count; ++r) rows.push_back("digit " + std::to_string(test.labels[std::size_t(r)]));
    for (double s : sigmas) col_labels.push_back("sigma " + fmt(s, 1));
    write_npy(summary.file(files::d1_noising + ".npy", "D1: [digits, 7 sigmas, 28, 28], values not clipped"),
              grid.data(), {std::size_t(count), sigmas.size(), 28, 28});
    write_labelled_grid(summary.file(files::d1_noising + ".png", "D1 figure"),
                        "Noising process z = x + sigma * eps on MNIST test digits (shown clipped to [0, 1])",
                        grid.data(), count, cols, 28, 28, rows, col_labels);
    summary["deliverables"] = "D1";
    summary["config"] = {{"sigmas", sigmas}, {"digits", count}, {"seed", seed}, {"data", data}};
    summary.write();
    std::printf("D1 written to %s\n", (fs::path(runs) / name / (files::d1_noising + ".png")).c_str());
    return 0;
  });
}
