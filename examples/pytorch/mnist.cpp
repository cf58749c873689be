// PyTorch's examples/mnist/main.py, ported to unetflow: the same network, loss, optimiser, schedule, batches and
// printout, function for function (the original: benchmarks/pytorch_examples/mnist_main.py, pytorch/examples at
// 37a1866). Where the port differs and why: docs/library.md, "PyTorch's examples, ported".
//   build/examples/pytorch_mnist --data data/mnist --epochs 3 --threads 2
// Writes RUNS/NAME/ (runs/pytorch_mnist/ by default): summary.json (the test loss and accuracy after every epoch,
// each epoch's training time and images per second) and model.safetensors, main.py's Net state_dict (conv1, conv2,
// fc1, fc2), which loads into that Net with load_state_dict(strict=True).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <span>
#include <unetflow/io/run_summary.hpp>
#include <unetflow/unetflow.hpp>

#include "support/cli.hpp"

using namespace unetflow;
using Image = Shape<1, 28, 28>;

// class Net(nn.Module): its modules in forward's order; those that main.py names keep their names.
template <class B>
using Net = Sequential<Named<"conv1", Conv2d<1, 32, 3, 1, 0, B>>, ReLU<B>,    // 32 x 26 x 26
                       Named<"conv2", Conv2d<32, 64, 3, 1, 0, B>>, ReLU<B>,   // 64 x 24 x 24
                       MaxPool2d<2, 2, 0, B>, Named<"dropout1", Dropout<B>>,  // 64 x 12 x 12
                       ToVector<B>,                                           // torch.flatten(x, 1)
                       Named<"fc1", Linear<9216, 128, B>>, ReLU<B>, Named<"dropout2", Dropout<B>>,
                       Named<"fc2", Linear<128, 10, B>>, LogSoftmax<B>>;  // F.log_softmax(x, dim=1)

struct Args {
  int batch_size = 64, test_batch_size = 1000, epochs = 14, log_interval = 10, threads = 0;
  int train_images = 0, test_images = 0;  // 0: all
  double lr = 1.0, gamma = 0.7;
  std::uint64_t seed = 1;
  std::string data = "data/mnist", runs = "runs", name = "pytorch_mnist", device = "auto";
};

// transforms.Normalize((0.1307,), (0.3081,)) after ToTensor (the set's images are ToTensor's [0, 1] values).
ImageSet load(const Args& args, Split split, int limit) {
  ImageSet set = open_data(args.data, split);
  check_images_fit<Image>(set, args.data);
  set.keep_first(limit);
  for (float& v : set.images) v = (v - 0.1307f) / 0.3081f;
  return set;
}

// The batches of DataLoader(dataset, batch_size) without shuffle (main.py shuffles only on CUDA).
struct Batch {
  int first, n;
  std::span<const float> images(const ImageSet& set) const { return {set.image(first), std::size_t(n) * Image::size}; }
  std::span<const std::uint8_t> labels(const ImageSet& set) const { return {&set.labels[first], std::size_t(n)}; }
};
Batch batch_at(const ImageSet& set, int batch_size, int index) {
  return {index * batch_size, std::min(batch_size, set.n - index * batch_size)};
}
int batches(const ImageSet& set, int batch_size) { return (set.n + batch_size - 1) / batch_size; }

// Returns the mean of the batches' losses (main.py prints them only).
template <class B>
double train(const Args& args, Net<B>& model, const ImageSet& train_set, Adadelta<B>& optimizer, int epoch) {
  set_training(model, true);
  Tensor<Image, B> data;
  Tensor<Vec<10>, B> grad;
  const int count = batches(train_set, args.batch_size);
  double sum = 0;
  for (int batch_idx = 0; batch_idx < count; ++batch_idx) {
    const Batch batch = batch_at(train_set, args.batch_size, batch_idx);
    data.assign(batch.images(train_set));
    optimizer.zero_grad();
    auto output = model.forward(View<Image, const float>(data));
    const double loss = nll_loss<B>(output, batch.labels(train_set), grad.resize(batch.n));
    model.backward(View<Image, const float>(data), grad.view());
    optimizer.step();
    sum += loss;
    if (batch_idx % args.log_interval == 0)
      std::printf("Train Epoch: %d [%d/%d (%.0f%%)]\tLoss: %.6f\n", epoch, batch_idx * batch.n, train_set.n,
                  100.0 * batch_idx / count, loss);
  }
  return sum / count;
}

struct TestResult {
  double loss;
  int correct;
};

template <class B>
TestResult test(Net<B>& model, const ImageSet& test_set, int test_batch_size) {
  set_training(model, false);
  Tensor<Image, B> data;
  double test_loss = 0;
  int correct = 0;
  for (int i = 0; i < batches(test_set, test_batch_size); ++i) {
    const Batch batch = batch_at(test_set, test_batch_size, i);
    data.assign(batch.images(test_set));
    auto output = model.forward(View<Image, const float>(data));
    test_loss += nll_loss<B>(output, batch.labels(test_set), {}, Reduction::sum);  // sum up batch loss
    const auto log_probs = to_vector(output);
    for (int s = 0; s < batch.n; ++s) {  // the index of the max log-probability
      const float* z = log_probs.data() + std::ptrdiff_t(s) * 10;
      correct += int(std::max_element(z, z + 10) - z) == batch.labels(test_set)[std::size_t(s)];
    }
  }
  test_loss /= test_set.n;
  std::printf("\nTest set: Average loss: %.4f, Accuracy: %d/%d (%.0f%%)\n\n", test_loss, correct, test_set.n,
              100.0 * correct / test_set.n);
  return {test_loss, correct};
}

template <class B>
int run(const Args& args) {
  const ImageSet train_set = load(args, Split::train, args.train_images);
  const ImageSet test_set = load(args, Split::test, args.test_images);
  RunSummary summary(std::filesystem::path(args.runs) / args.name, true, examples::build_commit());
  summary["program"] = "pytorch_mnist: PyTorch's examples/mnist/main.py";
  summary["settings"] = {{"batch_size", args.batch_size},
                         {"test_batch_size", args.test_batch_size},
                         {"epochs", args.epochs},
                         {"lr", args.lr},
                         {"gamma", args.gamma},
                         {"seed", args.seed},
                         {"train_images", train_set.n},
                         {"test_images", test_set.n},
                         {"device", std::string(B::name)},
                         {"threads", threads()}};
  summary["epochs"] = nlohmann::json::array();

  auto model = std::make_unique<Net<B>>();  // torch.manual_seed(args.seed); model = Net()
  Rng rng(args.seed);
  reset_parameters(*model, rng);
  seed_streams(*model, args.seed);
  model->template get<5>().set_p(0.25);  // self.dropout1 = nn.Dropout(0.25); dropout2 keeps 0.5
  Adadelta<B> optimizer(*model, {.lr = args.lr});
  StepLR<Adadelta<B>> scheduler(optimizer, 1, args.gamma);
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const double train_loss = train(args, *model, train_set, optimizer, epoch);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const TestResult result = test(*model, test_set, args.test_batch_size);
    scheduler.step();
    summary["epochs"].push_back({{"epoch", epoch},
                                 {"train_loss", train_loss},
                                 {"train_seconds", seconds},
                                 {"train_images_per_second", train_set.n / seconds},
                                 {"test_loss", result.loss},
                                 {"test_accuracy", double(result.correct) / test_set.n}});
    summary.write();  // after every epoch: an interrupted run keeps what it measured
  }
  save_weights(summary.file("model.safetensors", "main.py's Net state_dict after the last epoch"),
               {{"model", "pytorch/examples mnist Net"}}, *model);
  summary.write();
  return 0;
}

int main(int argc, char** argv) {
  examples::use_program_wait_policy(argv);
  CLI::App app{"PyTorch's MNIST example (pytorch/examples mnist/main.py), ported to unetflow"};
  Args args;
  app.add_option("--batch-size", args.batch_size, "input batch size for training")
      ->capture_default_str()
      ->check(CLI::Range(1, 60000));
  app.add_option("--test-batch-size", args.test_batch_size, "input batch size for testing")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--epochs", args.epochs, "number of epochs to train")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--lr", args.lr, "learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--gamma", args.gamma, "learning rate step gamma")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", args.seed, "random seed")->capture_default_str()->check(examples::not_negative_text);
  app.add_option("--log-interval", args.log_interval, "how many batches to wait before logging training status")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--test-images", args.test_images, "test on the first N images only (0: all)")
      ->check(CLI::Range(0, 10000));
  examples::add_port_flags(app, args);
  CLI11_PARSE(app, argc, argv);
  return examples::guarded([&] {
    examples::apply_threads(args.threads);
    return examples::with_backend(args.device, [&]<class B>() { return run<B>(args); });
  });
}
