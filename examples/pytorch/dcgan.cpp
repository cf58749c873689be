// PyTorch's examples/dcgan/main.py, ported to unetflow at 28 x 28 (MNIST, Fashion-MNIST): one up-sampling stage
// fewer than the original's 64 x 64 networks, as benchmarks/pytorch_examples/dcgan_main_28.py changes the original
// (pytorch/examples at 37a1866, beside it). Two models and two Adam optimisers (beta1 0.5) trained in turn with
// binary cross-entropy; the discriminator's gradient flows into the generator's output in the generator's step only
// (the original detaches the fakes in the discriminator's). Where the port differs and why: docs/library.md,
// "PyTorch's examples, ported".
//   build/examples/pytorch_dcgan --data data/fashion-mnist --epochs 5 --threads 2
// Writes RUNS/NAME/ (runs/pytorch_dcgan/ by default): summary.json (every epoch's mean losses and D outputs, time
// and images per second), real_samples.png, fake_samples_epoch_<e>.png (the fixed noise's 64 images, min-max
// normalised as save_image(normalize=True)) with samples_epoch_<e>.npy (1000 images in [0, 1] for `score`), and
// netG_epoch_<e>.safetensors / netD_epoch_<e>.safetensors: the Generator's and Discriminator's state_dicts.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <unetflow/io/figures.hpp>
#include <unetflow/io/npy.hpp>
#include <unetflow/io/run_summary.hpp>
#include <unetflow/unetflow.hpp>

#include "support/cli.hpp"

using namespace unetflow;
constexpr int nz = 100;  // the original's defaults: nz 100, ngf = ndf = 64
using Noise = Shape<nz, 1, 1>;
using Image = Shape<1, 28, 28>;
using Score = Shape<1, 1, 1>;

// class Generator: self.main = nn.Sequential(...), without the 64 x 64 stage (ngf * 8).
template <class B>
using Generator = Sequential<Named<
    "main", Sequential<ConvTranspose2d<nz, 256, 4, 1, 0, B, Bias::none>, BatchNorm2d<256, B>, ReLU<B>,   // 256 x 4 x 4
                       ConvTranspose2d<256, 128, 3, 2, 1, B, Bias::none>, BatchNorm2d<128, B>, ReLU<B>,  // 7 x 7
                       ConvTranspose2d<128, 64, 4, 2, 1, B, Bias::none>, BatchNorm2d<64, B>, ReLU<B>,    // 14 x 14
                       ConvTranspose2d<64, 1, 4, 2, 1, B, Bias::none>, Tanh<B>>>>;                       // 1 x 28 x 28

// class Discriminator, mirrored; LeakyReLU(0.2) is set by make_discriminator.
template <class B>
using Discriminator = Sequential<Named<
    "main", Sequential<Conv2d<1, 64, 4, 2, 1, B, Bias::none>, LeakyReLU<B>,                          // 64 x 14 x 14
                       Conv2d<64, 128, 4, 2, 1, B, Bias::none>, BatchNorm2d<128, B>, LeakyReLU<B>,   // 128 x 7 x 7
                       Conv2d<128, 256, 3, 2, 1, B, Bias::none>, BatchNorm2d<256, B>, LeakyReLU<B>,  // 256 x 4 x 4
                       Conv2d<256, 1, 4, 1, 0, B, Bias::none>, Sigmoid<B>>>>;                        // 1 x 1 x 1

struct Args {
  int batch_size = 64, epochs = 25, threads = 0, train_images = 0, samples = 1000;
  double lr = 0.0002, beta1 = 0.5;
  std::uint64_t seed = 1;
  std::string data = "data/mnist", runs = "runs", name = "pytorch_dcgan", device = "auto";
  bool quiet = false;
};

// weights_init: convolutions' weights N(0, 0.02), batch norms' weights N(1, 0.02) and biases 0.
template <class M>
void weights_init(M& model, Rng& rng) {
  model.visit("", [&](const std::string& name, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) {
      std::vector<float> v(std::size_t(e.size), 0.0f);
      if (e.dims.size() == 4)
        rng.fill_normal(v.data(), e.size, 0.0, 0.02);
      else if (name.ends_with("weight"))
        rng.fill_normal(v.data(), e.size, 1.0, 0.02);
      e.from_host(v.data());
    }
  });
}

template <class B>
std::unique_ptr<Discriminator<B>> make_discriminator() {
  auto d = std::make_unique<Discriminator<B>>();
  auto& main = d->template get<0>();
  main.template get<1>().negative_slope = 0.2f;  // nn.LeakyReLU(0.2, inplace=True)
  main.template get<4>().negative_slope = 0.2f;
  main.template get<7>().negative_slope = 0.2f;
  return d;
}

double mean_of(const std::vector<float>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); }

// save_image(..., normalize=True): the grid's values shifted and scaled to [0, 1] together.
void save_grid(const std::filesystem::path& path, std::vector<float> images, int rows, int cols) {
  const auto [lo, hi] = std::minmax_element(images.begin(), images.end());
  const float low = *lo, range = std::max(*hi - *lo, 1e-5f);
  for (float& v : images) v = (v - low) / range;
  write_tiles_png(path, images.data(), rows, cols, 28, 28, 2);
}

template <class B>
int run(const Args& args) {
  ImageSet set = open_data(args.data, Split::train);
  check_images_fit<Image>(set, args.data);
  set.keep_first(args.train_images);
  for (float& v : set.images) v = (v - 0.5f) / 0.5f;  // transforms.Normalize((0.5,), (0.5,))
  const auto dir = std::filesystem::path(args.runs) / args.name;
  RunSummary summary(dir, true, examples::build_commit());
  summary["program"] = "pytorch_dcgan: PyTorch's examples/dcgan/main.py at 28 x 28";
  summary["settings"] = {{"batch_size", args.batch_size},
                         {"epochs", args.epochs},
                         {"seed", args.seed},
                         {"lr", args.lr},
                         {"beta1", args.beta1},
                         {"data", args.data},
                         {"train_images", set.n},
                         {"device", std::string(B::name)},
                         {"threads", threads()}};
  summary["epochs"] = nlohmann::json::array();

  Rng rng(args.seed);  // torch.manual_seed: both models' weights, the fixed noise, then every batch's noise
  auto netG = std::make_unique<Generator<B>>();
  weights_init(*netG, rng);
  auto netD = make_discriminator<B>();
  weights_init(*netD, rng);
  std::vector<float> fixed_noise(std::size_t(args.batch_size) * nz), noise(fixed_noise.size());
  rng.fill_normal(fixed_noise.data(), std::ptrdiff_t(fixed_noise.size()));
  const typename Adam<B>::Options adam{.lr = args.lr, .beta1 = args.beta1, .beta2 = 0.999};
  Adam<B> optimizerD(*netD, adam), optimizerG(*netG, adam);

  ShuffledLoader loader(set, args.batch_size, args.seed);  // shuffle=True
  std::vector<float> images(std::size_t(args.batch_size) * Image::size), ones(std::size_t(args.batch_size), 1.0f),
      zeros(ones.size(), 0.0f);
  std::vector<std::uint8_t> labels(std::size_t(args.batch_size));
  Tensor<Image, B> real, d_fake;
  Tensor<Noise, B> z;
  Tensor<Score, B> real_label, fake_label, d_output;
  const int count = loader.batches_per_epoch();
  for (int epoch = 0; epoch < args.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    double sum_d = 0, sum_g = 0, sum_dx = 0, sum_dgz1 = 0, sum_dgz2 = 0;
    for (int i = 0; i < count; ++i) {
      // (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
      zero_grad(*netD);
      const int n = loader.fill(epoch, i, images.data(), labels.data());
      real.assign({images.data(), std::size_t(n) * Image::size});
      real_label.assign({ones.data(), std::size_t(n)});
      fake_label.assign({zeros.data(), std::size_t(n)});
      auto output = netD->forward(View<Image, const float>(real));
      const double errD_real =
          bce<B>(View<Score, const float>(output), View<Score, const float>(real_label), d_output.resize(n));
      const double D_x = mean_of(download<B>(View<Score, const float>(output)));
      netD->backward(View<Image, const float>(real), d_output.view(), View<Image, float>{});
      // train with fake: netD(fake.detach()), so no gradient reaches the generator
      rng.fill_normal(noise.data(), std::ptrdiff_t(n) * nz);
      z.assign({noise.data(), std::size_t(n) * nz});
      auto fake = netG->forward(View<Noise, const float>(z));
      output = netD->forward(View<Image, const float>(fake));
      const double errD_fake =
          bce<B>(View<Score, const float>(output), View<Score, const float>(fake_label), d_output.view());
      const double D_G_z1 = mean_of(download<B>(View<Score, const float>(output)));
      netD->backward(View<Image, const float>(fake), d_output.view(), View<Image, float>{});
      const double errD = errD_real + errD_fake;
      optimizerD.step();
      // (2) Update G network: maximize log(D(G(z))), through D into the fakes
      zero_grad(*netG);
      output = netD->forward(View<Image, const float>(fake));
      const double errG =
          bce<B>(View<Score, const float>(output), View<Score, const float>(real_label), d_output.view());
      const double D_G_z2 = mean_of(download<B>(View<Score, const float>(output)));
      netD->backward(View<Image, const float>(fake), d_output.view(), d_fake.resize(n));
      netG->backward(View<Noise, const float>(z), d_fake.view(), View<Noise, float>{});
      optimizerG.step();
      if (!args.quiet)
        std::printf("[%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f\n", epoch, args.epochs, i,
                    count, errD, errG, D_x, D_G_z1, D_G_z2);
      sum_d += errD, sum_g += errG, sum_dx += D_x, sum_dgz1 += D_G_z1, sum_dgz2 += D_G_z2;
      if (epoch == 0 && i == 0)
        save_grid(summary.file("real_samples.png", "the first batch of real images"),
                  {images.begin(), images.begin() + std::ptrdiff_t(n) * Image::size}, (n + 7) / 8, std::min(n, 8));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // fake = netG(fixed_noise) (the generator in training mode, as the original draws it), and samples to score
    z.assign(fixed_noise);
    const auto fixed = download<B>(View<Image, const float>(netG->forward(View<Noise, const float>(z))));
    const auto e = std::to_string(epoch);
    save_grid(summary.file("fake_samples_epoch_" + e + ".png", "the fixed noise's images"), fixed,
              (args.batch_size + 7) / 8, std::min(args.batch_size, 8));
    write_npy(summary.file("fake_samples_epoch_" + e + ".npy", "the figure's images, as the generator drew them"),
              fixed.data(), {std::size_t(args.batch_size), 1, 28, 28});
    if (epoch == 0)
      write_npy(summary.file("fixed_noise.npy", "the noise of the fake_samples figures"), fixed_noise.data(),
                {std::size_t(args.batch_size), std::size_t(nz), 1, 1});
    std::vector<float> samples;
    for (int first = 0; first < args.samples; first += args.batch_size) {
      const int n = std::min(args.batch_size, args.samples - first);
      rng.fill_normal(noise.data(), std::ptrdiff_t(n) * nz);
      z.assign({noise.data(), std::size_t(n) * nz});
      const auto drawn = download<B>(View<Image, const float>(netG->forward(View<Noise, const float>(z))));
      for (float v : drawn) samples.push_back((v + 1.0f) / 2.0f);
    }
    write_npy(summary.file("samples_epoch_" + e + ".npy", "generated images in [0, 1], for score"), samples.data(),
              {std::size_t(args.samples), 1, 28, 28});
    save_weights(summary.file("netG_epoch_" + e + ".safetensors", "the Generator's state_dict"),
                 {{"model", "pytorch/examples dcgan Generator, 28 x 28"}}, *netG);
    save_weights(summary.file("netD_epoch_" + e + ".safetensors", "the Discriminator's state_dict"),
                 {{"model", "pytorch/examples dcgan Discriminator, 28 x 28"}}, *netD);
    summary["epochs"].push_back({{"epoch", epoch},
                                 {"loss_d", sum_d / count},
                                 {"loss_g", sum_g / count},
                                 {"d_x", sum_dx / count},
                                 {"d_g_z1", sum_dgz1 / count},
                                 {"d_g_z2", sum_dgz2 / count},
                                 {"train_seconds", seconds},
                                 {"train_images_per_second", set.n / seconds}});
    summary.write();  // after every epoch: an interrupted run keeps what it measured
    std::printf("epoch %d: %.1f s, %.0f images/s\n", epoch, seconds, set.n / seconds);
  }
  return 0;
}

int main(int argc, char** argv) {
  examples::use_program_wait_policy(argv);
  CLI::App app{"PyTorch's DCGAN example (pytorch/examples dcgan/main.py) at 28 x 28, ported to unetflow"};
  Args args;
  app.add_option("--batch-size", args.batch_size, "input batch size (the original's --batchSize)")
      ->capture_default_str()
      ->check(CLI::Range(2, 60000));
  app.add_option("--epochs", args.epochs, "number of epochs to train for (the original's --niter)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--lr", args.lr, "learning rate")->capture_default_str()->check(CLI::Range(1e-8, 1.0));
  app.add_option("--beta1", args.beta1, "beta1 for Adam")->capture_default_str()->check(CLI::Range(0.0, 0.9999));
  app.add_option("--seed", args.seed, "random seed (the original's --manualSeed)")
      ->capture_default_str()
      ->check(examples::not_negative_text);
  app.add_option("--samples", args.samples, "images drawn after each epoch into samples_epoch_<e>.npy")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_flag("--quiet", args.quiet, "print one line an epoch instead of one a batch");
  examples::add_port_flags(app, args);
  CLI11_PARSE(app, argc, argv);
  return examples::guarded([&] {
    examples::apply_threads(args.threads);
    return examples::with_backend(args.device, [&]<class B>() { return run<B>(args); });
  });
}
