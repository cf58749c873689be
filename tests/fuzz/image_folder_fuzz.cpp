// libFuzzer target: the image-folder reader on one hostile image (PNG, BMP, GIF, JPEG... whatever stb_image takes)
// beside a good 28x28 PNG: headers that claim huge sizes, sizes that differ from the header after decoding, cut files.
// Each input is tried as it is and with its PNG chunks' CRCs made right, so that mutations get past the CRC check to
// the decoder.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

#include <unetflow/data/image_folder.hpp>

#include "fuzz_file.hpp"

namespace {
// The input with every complete PNG chunk's CRC made right, so that mutations reach the decoder, not only the CRC check.
std::vector<std::uint8_t> with_png_crcs(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> bytes(data, data + size);
  if (!unetflow::png::has_signature(bytes)) return bytes;
  for (std::size_t at = 8; size - at >= 12;) {
    const std::uint32_t length = unetflow::png::big_endian32(&bytes[at]);
    if (length > size - at - 12) break;
    const auto crc = std::uint32_t(crc32(0, &bytes[at + 4], uInt(length + 4)));
    for (int k = 0; k < 4; ++k) bytes[at + 8 + length + std::size_t(k)] = std::uint8_t(crc >> (24 - 8 * k));
    at += 12 + std::size_t(length);
  }
  return bytes;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* raw, std::size_t raw_size) {
  namespace fs = std::filesystem;
  static const fs::path dir = [] {
    const fs::path d = fuzz::input_path("image_folder");
    fs::create_directories(d / "a");
    fs::create_directories(d / "b");
    unsigned char pixels[28 * 28];
    for (int i = 0; i < 28 * 28; ++i) pixels[i] = static_cast<unsigned char>(i * 7);
    if (!stbi_write_png((d / "a" / "good.png").c_str(), 28, 28, 1, pixels, 28)) std::abort();
    return d;
  }();
  const fs::path image = dir / "b" / "input.png";
  for (const auto& input : {std::vector<std::uint8_t>(raw, raw + raw_size), with_png_crcs(raw, raw_size)}) {
    std::FILE* f = std::fopen(image.c_str(), "wb");
    if (!f || (!input.empty() && std::fwrite(input.data(), 1, input.size(), f) != input.size()) || std::fclose(f) != 0)
      std::abort();
    for (const auto& sizes : {std::vector<unetflow::ImageSize>{{28, 28}, {32, 32}}, std::vector<unetflow::ImageSize>{}}) {
      try {
        const auto set = unetflow::load_image_folder(dir, sizes);
        if (set.n != 2 || set.height != 28 || set.width != 28 ||
            set.images.size() != std::size_t(set.n) * std::size_t(set.sample_size()))
          std::abort();  // what it returns is what the headers say, and the sizes asked for
      } catch (const unetflow::Error&) {
      }
    }
  }
  return 0;
}
