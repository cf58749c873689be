// PyTorch's examples/vae/main.py, ported to unetflow: the same fully connected VAE (784-400-20x2, 20-400-784), loss
// (binary cross-entropy plus the KL divergence, summed), Adam, batches and printout, and the same PNGs (the original:
// benchmarks/pytorch_examples/vae_main.py, pytorch/examples at 37a1866). The model branches (two heads on fc1's
// output) and mixes in noise, so it is written as a struct whose forward and backward sit side by side rather than
// as a Sequential. Where the port differs and why: docs/library.md, "PyTorch's examples, ported".
//   build/examples/pytorch_vae --data data/mnist --epochs 10 --threads 2
// Writes RUNS/NAME/ (runs/pytorch_vae/ by default): summary.json (the training and test loss of every epoch, each
// epoch's training time and images per second), reconstruction_<epoch>.png and sample_<epoch>.png (main.py's
// results/ figures, with their values and noise as .npy), and model.safetensors, main.py's VAE state_dict (fc1, fc21,
// fc22, fc3, fc4).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <unetflow/io/figures.hpp>
#include <unetflow/io/npy.hpp>
#include <unetflow/io/run_summary.hpp>
#include <unetflow/unetflow.hpp>

#include "support/cli.hpp"

using namespace unetflow;
using Pixels = Vec<784>;  // x.view(-1, 784)
using Code = Vec<20>;

struct Args {
  int batch_size = 128, epochs = 10, log_interval = 10, threads = 0, train_images = 0, test_images = 0;
  std::uint64_t seed = 1;
  std::string data = "data/mnist", runs = "runs", name = "pytorch_vae", device = "auto";
};

// class VAE(nn.Module). forward() keeps what backward() needs; backward() takes the gradients of the loss with
// respect to the reconstruction and to mu and logvar (the KL term's), and leaves the parameters' gradients.
template <class B>
struct VAE {
  Linear<784, 400, B> fc1;
  Linear<400, 20, B> fc21, fc22;
  Linear<20, 400, B> fc3;
  Linear<400, 784, B> fc4;
  ReLU<B> relu1, relu3;
  Sigmoid<B> sigmoid;

  struct Encoded {
    View<Code, float> mu, logvar;
  };
  Encoded encode(View<Pixels, const float> x) {
    h1_ = relu1.forward(a1_ = fc1.forward(x));
    return {fc21.forward(h1_), fc22.forward(h1_)};
  }
  // std = exp(0.5 * logvar); eps = randn_like(std); z = mu + eps * std (on the host: 20 values a sample).
  View<Code, const float> reparameterize(const Encoded& e, Rng& rng) {
    mu_ = download<B>(e.mu);
    logvar_ = download<B>(e.logvar);
    eps_.resize(mu_.size());
    rng.fill_normal(eps_.data(), std::ptrdiff_t(eps_.size()));
    host_.resize(mu_.size());
    for (std::size_t i = 0; i < host_.size(); ++i) host_[i] = mu_[i] + eps_[i] * std::exp(0.5f * logvar_[i]);
    z_.assign(host_);
    return z_.view();
  }
  View<Pixels, float> decode(View<Code, const float> z) {
    h3_ = relu3.forward(a3_ = fc3.forward(z));
    return sigmoid.forward(a4_ = fc4.forward(h3_));
  }
  View<Pixels, float> forward(View<Pixels, const float> x, Rng& rng) { return decode(reparameterize(encode(x), rng)); }

  // The last forward's noise (eps), sample after sample.
  const std::vector<float>& noise() const { return eps_; }

  // -0.5 * sum(1 + logvar - mu^2 - exp(logvar)) of the last forward.
  double kl_divergence() const {
    double sum = 0;
    for (std::size_t i = 0; i < mu_.size(); ++i)
      sum += 1.0 + logvar_[i] - double(mu_[i]) * mu_[i] - std::exp(double(logvar_[i]));
    return -0.5 * sum;
  }

  void backward(View<Pixels, const float> x, View<Pixels, float> d_recon) {
    const int n = x.n;
    sigmoid.backward(View<Pixels, const float>(a4_), d_recon, d_pixels_.resize(n));
    fc4.backward(View<Vec<400>, const float>(h3_), d_pixels_.view(), d_hidden_.resize(n));
    relu3.backward(View<Vec<400>, const float>(a3_), d_hidden_.view(), d_inner_.resize(n));
    fc3.backward(View<Code, const float>(z_), d_inner_.view(), d_code_.resize(n));
    // through z = mu + eps * exp(0.5 * logvar), plus the KL term's gradients (mu, and 0.5 * (exp(logvar) - 1))
    const auto dz = download<B>(View<Code, const float>(d_code_.view()));
    host_.resize(dz.size());
    for (std::size_t i = 0; i < dz.size(); ++i) host_[i] = dz[i] + mu_[i];
    d_mu_.assign(host_);
    for (std::size_t i = 0; i < dz.size(); ++i)
      host_[i] = dz[i] * 0.5f * eps_[i] * std::exp(0.5f * logvar_[i]) + 0.5f * (std::exp(logvar_[i]) - 1.0f);
    d_logvar_.assign(host_);
    fc21.backward(View<Vec<400>, const float>(h1_), d_mu_.view(), d_hidden_.view());
    fc22.backward(View<Vec<400>, const float>(h1_), d_logvar_.view(), d_hidden_.view(), true);
    relu1.backward(View<Vec<400>, const float>(a1_), d_hidden_.view(), d_inner_.view());
    fc1.backward(x, d_inner_.view(), View<Pixels, float>{});
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    fc1.visit(prefix + "fc1.", f);
    fc21.visit(prefix + "fc21.", f);
    fc22.visit(prefix + "fc22.", f);
    fc3.visit(prefix + "fc3.", f);
    fc4.visit(prefix + "fc4.", f);
  }

 private:
  View<Vec<400>, float> a1_, h1_, a3_, h3_;
  View<Pixels, float> a4_;
  std::vector<float> mu_, logvar_, eps_, host_;  // host_: z, then the codes' gradients, before their upload
  Tensor<Code, B> z_, d_code_, d_mu_, d_logvar_;
  Tensor<Vec<400>, B> d_hidden_, d_inner_;
  Tensor<Pixels, B> d_pixels_;
};

// Reconstruction + KL divergence losses summed over all elements and batch; its gradient with respect to the
// reconstruction goes to d_recon (the KL term's is the model's own, kl_divergence's).
template <class B>
double loss_function(VAE<B>& model, View<Pixels, float> recon_x, View<Pixels, const float> x,
                     View<Pixels, float> d_recon = {}) {
  return bce<B>(View<Pixels, const float>(recon_x), x, d_recon, Reduction::sum) + model.kl_divergence();
}

ImageSet load(const Args& args, Split split, int limit) {
  ImageSet set = open_data(args.data, split);
  check_images_fit<Shape<1, 28, 28>>(set, args.data);  // transforms.ToTensor(): [0, 1], as the set holds them
  set.keep_first(limit);
  return set;
}

template <class B>
double train(const Args& args, VAE<B>& model, Adam<B>& optimizer, ShuffledLoader& loader, const ImageSet& set, Rng& rng,
             int epoch) {
  Tensor<Pixels, B> data;
  Tensor<Pixels, B> d_recon;
  std::vector<float> images(std::size_t(args.batch_size) * Pixels::size);
  std::vector<std::uint8_t> labels(std::size_t(args.batch_size));
  double train_loss = 0;
  const int count = loader.batches_per_epoch();
  for (int batch_idx = 0; batch_idx < count; ++batch_idx) {
    const int n = loader.fill(epoch - 1, batch_idx, images.data(), labels.data());
    data.assign({images.data(), std::size_t(n) * Pixels::size});
    optimizer.zero_grad();
    auto recon_batch = model.forward(data, rng);
    const double loss = loss_function(model, recon_batch, data, d_recon.resize(n));
    model.backward(data, d_recon.view());
    train_loss += loss;
    optimizer.step();
    if (batch_idx % args.log_interval == 0)
      std::printf("Train Epoch: %d [%d/%d (%.0f%%)]\tLoss: %.6f\n", epoch, batch_idx * n, set.n,
                  100.0 * batch_idx / count, loss / n);
  }
  std::printf("====> Epoch: %d Average loss: %.4f\n", epoch, train_loss / set.n);
  return train_loss / set.n;
}

template <class B>
double test(const Args& args, VAE<B>& model, const ImageSet& set, Rng& rng, int epoch, RunSummary& summary) {
  Tensor<Pixels, B> data;
  double test_loss = 0;
  for (int first = 0, i = 0; first < set.n; first += args.batch_size, ++i) {
    const int n = std::min(args.batch_size, set.n - first);
    data.assign({set.image(first), std::size_t(n) * Pixels::size});
    auto recon_batch = model.forward(data, rng);
    test_loss += loss_function(model, recon_batch, data);
    if (i == 0) {  // the first 8 test images above their reconstructions
      const int shown = std::min(n, 8);
      std::vector<float> comparison(set.image(0), set.image(shown));
      const auto recon = download<B>(View<Pixels, const float>(recon_batch));
      comparison.insert(comparison.end(), recon.begin(), recon.begin() + std::ptrdiff_t(shown) * Pixels::size);
      const auto name = "reconstruction_" + std::to_string(epoch);
      write_tiles_png(summary.file(name + ".png", "8 test images above their reconstructions"), comparison.data(), 2,
                      shown, 28, 28, 1, 2);
      // the figure's values and the noise that drew them: the reconstructions can be recomputed elsewhere
      write_npy(summary.file(name + ".npy", "the figure's images (test images, then reconstructions)"),
                comparison.data(), {std::size_t(2 * shown), 1, 28, 28});
      write_npy(summary.file(name + "_eps.npy", "the noise (eps) of the figure's reconstructions"),
                model.noise().data(), {std::size_t(shown), std::size_t(Code::size)});
    }
  }
  test_loss /= set.n;
  std::printf("====> Test set loss: %.4f\n", test_loss);
  return test_loss;
}

template <class B>
int run(const Args& args) {
  const ImageSet train_set = load(args, Split::train, args.train_images);
  const ImageSet test_set = load(args, Split::test, args.test_images);
  const auto dir = std::filesystem::path(args.runs) / args.name;
  RunSummary summary(dir, true, examples::build_commit());
  summary["program"] = "pytorch_vae: PyTorch's examples/vae/main.py";
  summary["settings"] = {{"batch_size", args.batch_size}, {"epochs", args.epochs},     {"seed", args.seed},
                         {"train_images", train_set.n},   {"test_images", test_set.n}, {"device", std::string(B::name)},
                         {"threads", threads()}};
  summary["epochs"] = nlohmann::json::array();

  Rng rng(args.seed);  // torch.manual_seed(args.seed): the initial weights, then the noise of every forward
  auto model = std::make_unique<VAE<B>>();
  reset_parameters(*model, rng);
  Adam<B> optimizer(*model, {.lr = 1e-3});
  ShuffledLoader loader(train_set, args.batch_size, args.seed);  // shuffle=True
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const double train_loss = train(args, *model, optimizer, loader, train_set, rng, epoch);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double test_loss = test(args, *model, test_set, rng, epoch, summary);
    // sample = torch.randn(64, 20); sample = model.decode(sample)
    std::vector<float> noise(64 * Code::size);
    rng.fill_normal(noise.data(), std::ptrdiff_t(noise.size()));
    Tensor<Code, B> sample(noise);
    const auto images = download<B>(View<Pixels, const float>(model->decode(sample)));
    const auto name = "sample_" + std::to_string(epoch);
    write_tiles_png(summary.file(name + ".png", "64 images decoded from N(0, 1) codes"), images.data(), 8, 8, 28, 28, 1,
                    2);
    write_npy(summary.file(name + ".npy", "the figure's images"), images.data(), {64, 1, 28, 28});
    write_npy(summary.file(name + "_codes.npy", "the codes the figure's images were decoded from"), noise.data(),
              {64, std::size_t(Code::size)});
    summary["epochs"].push_back({{"epoch", epoch},
                                 {"train_loss", train_loss},
                                 {"train_seconds", seconds},
                                 {"train_images_per_second", train_set.n / seconds},
                                 {"test_loss", test_loss}});
    summary.write();  // after every epoch: an interrupted run keeps what it measured
  }
  save_weights(summary.file("model.safetensors", "main.py's VAE state_dict after the last epoch"),
               {{"model", "pytorch/examples vae VAE"}}, *model);
  summary.write();
  return 0;
}

int main(int argc, char** argv) {
  examples::use_program_wait_policy(argv);
  CLI::App app{"PyTorch's VAE example (pytorch/examples vae/main.py), ported to unetflow"};
  Args args;
  app.add_option("--batch-size", args.batch_size, "input batch size for training")
      ->capture_default_str()
      ->check(CLI::Range(1, 60000));
  app.add_option("--epochs", args.epochs, "number of epochs to train")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
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
