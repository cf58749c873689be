// Writes the fuzz targets' seed corpora (committed under tests/fuzz/corpus/): a valid file of each kind, written
// by the library's own writers, so the fuzzer starts from inputs that reach the readers' deepest checks.
//   make_seeds CORPUS_DIR
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

#include <unetflow/io/npy.hpp>
#include <unetflow/unetflow.hpp>

#include "../synthetic_idx.hpp"

using namespace unetflow;

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::filesystem::path dir = argv[1];
  for (const char* target : {"idx", "npy", "checkpoint", "gzip", "image_folder"}) std::filesystem::create_directories(dir / target);

  std::vector<std::uint8_t> pixels(2 * 28 * 28);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = std::uint8_t(i * 37);
  synthetic::write(dir / "idx" / "images", synthetic::idx_bytes({2, 28, 28}, pixels));
  synthetic::write(dir / "idx" / "images.gz", synthetic::idx_bytes({2, 28, 28}, pixels), true);
  synthetic::write(dir / "idx" / "labels", synthetic::idx_bytes({2}, {3, 7}));
  // gzip: an IDX file (the target compresses it too), a gzip stream of one, and a stream longer than its header says.
  synthetic::write(dir / "gzip" / "images", synthetic::idx_bytes({2, 28, 28}, pixels));
  synthetic::write(dir / "gzip" / "images.gz", synthetic::idx_bytes({2, 28, 28}, pixels), true);
  std::vector<std::uint8_t> longer = pixels;
  longer.resize(pixels.size() + 100000, 0);
  synthetic::write(dir / "gzip" / "longer.gz", synthetic::idx_bytes({2, 28, 28}, longer), true);

  // image_folder: a grey and a colour PNG of 28x28, a BMP (refused), and a PNG whose header claims 32000x32000 pixels.
  std::vector<unsigned char> rgb(28 * 28 * 3);
  for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<unsigned char>(i * 13);
  stbi_write_png((dir / "image_folder" / "grey.png").c_str(), 28, 28, 1, pixels.data(), 28);
  stbi_write_png((dir / "image_folder" / "colour.png").c_str(), 28, 28, 3, rgb.data(), 28 * 3);
  stbi_write_bmp((dir / "image_folder" / "colour.bmp").c_str(), 28, 28, 3, rgb.data());
  const auto bomb = synthetic::png_claiming(32000, 32000);
  synthetic::write(dir / "image_folder" / "bomb.png", bomb);

  const std::vector<float> values{1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -8.5f};
  write_npy(dir / "npy" / "float.npy", values.data(), {2, 3});
  const std::vector<std::int64_t> labels{3, 1, 4};
  write_npy(dir / "npy" / "int64.npy", labels.data(), {3});

  Linear<4, 3> model;
  Rng rng(1);
  reset_parameters(model, rng);
  Adam<cpu> adam(model);
  ExponentialLR<Adam<cpu>> schedule(adam, 0.5);
  TrainProgress progress;
  progress.epoch.value = 1;
  progress.step.value = 2;
  progress.losses.values = {0.5, 0.25};
  progress.epoch_seconds.values = {1.0};
  progress.noise_rng.values = {1, 2, 3, 4, 0, 0};
  save_checkpoint(dir / "checkpoint" / "checkpoint.safetensors", {{"model", "fuzz"}}, part("", model), part("optim.", adam),
                  part("sched.", schedule), part("progress.", progress));
  return 0;
}
