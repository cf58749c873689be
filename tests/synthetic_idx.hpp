#pragma once
// Writers of small IDX and CIFAR-10 files for the data and example tests: good ones, and damaged ones on purpose.
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace synthetic {

inline std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& data,
                                           std::uint8_t type = 0x08) {
  std::vector<std::uint8_t> out{0, 0, type, std::uint8_t(dims.size())};
  for (auto d : dims)
    for (int s = 24; s >= 0; s -= 8) out.push_back(std::uint8_t(d >> s));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

inline void write(const std::filesystem::path& p, const std::vector<std::uint8_t>& bytes, bool gzip = false) {
  if (gzip) {
    gzFile f = gzopen(p.c_str(), "wb");
    gzwrite(f, bytes.data(), unsigned(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
}

// A well-formed PNG of 8-bit grey pixels whose header claims width x height, with one tiny IDAT (a zlib stream of one
// zero byte): 66 bytes that a reader trusting the header would allocate width x height bytes for.
inline std::vector<std::uint8_t> png_claiming(std::uint32_t width, std::uint32_t height) {
  std::vector<std::uint8_t> png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  auto chunk = [&](const char* type, const std::vector<std::uint8_t>& data) {
    for (int s = 24; s >= 0; s -= 8) png.push_back(std::uint8_t(data.size() >> s));
    std::vector<std::uint8_t> body(type, type + 4);
    body.insert(body.end(), data.begin(), data.end());
    png.insert(png.end(), body.begin(), body.end());
    const auto crc = std::uint32_t(crc32(0, body.data(), unsigned(body.size())));
    for (int s = 24; s >= 0; s -= 8) png.push_back(std::uint8_t(crc >> s));
  };
  std::vector<std::uint8_t> ihdr;
  for (std::uint32_t v : {width, height})
    for (int s = 24; s >= 0; s -= 8) ihdr.push_back(std::uint8_t(v >> s));
  ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0});
  chunk("IHDR", ihdr);
  const std::uint8_t zero = 0;
  std::vector<std::uint8_t> idat(compressBound(1));
  uLongf length = uLongf(idat.size());
  compress(idat.data(), &length, &zero, 1);
  idat.resize(length);
  chunk("IDAT", idat);
  chunk("IEND", {});
  return png;
}

// n images of 28x28 (a bright bar whose position depends on the label) and their labels.
inline void write_mnist_like(const std::filesystem::path& dir, const std::string& prefix, std::uint32_t n, bool gzip = false) {
  std::filesystem::create_directories(dir);
  std::vector<std::uint8_t> images(std::size_t(n) * 784, 0), labels(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    labels[i] = std::uint8_t(i % 10);
    for (int y = 4; y < 24; ++y)
      for (int x = 0; x < 3; ++x) images[i * 784 + std::size_t(y * 28 + 4 + 2 * labels[i] + x)] = std::uint8_t(200 + (i * 7 + std::uint32_t(y)) % 56);
  }
  const std::string ext = gzip ? ".gz" : "";
  write(dir / (prefix + "-images-idx3-ubyte" + ext), idx_bytes({n, 28, 28}, images), gzip);
  write(dir / (prefix + "-labels-idx1-ubyte" + ext), idx_bytes({n}, labels), gzip);
}

// A CIFAR-10 binary folder: data_batch_1..5.bin with `per_batch` records each and test_batch.bin with `test`
// records; record i has label i % 10 and a flat colour over the whole 32x32 image (channel k bright when bit k of
// the label is set, with a little per-pixel variation), channel-major as CIFAR-10 stores it.
inline void write_cifar_like(const std::filesystem::path& dir, int per_batch, int test) {
  std::filesystem::create_directories(dir);
  auto batch = [&](const std::string& name, int records) {
    std::vector<std::uint8_t> bytes;
    for (int i = 0; i < records; ++i) {
      const int label = i % 10;
      bytes.push_back(std::uint8_t(label));
      for (int k = 0; k < 3; ++k)
        for (int p = 0; p < 1024; ++p) bytes.push_back(std::uint8_t(((label >> k) & 1 ? 200 : 40) + (p * 7 + i) % 16));
    }
    write(dir / name, bytes);
  };
  for (int b = 1; b <= 5; ++b) batch("data_batch_" + std::to_string(b) + ".bin", per_batch);
  batch("test_batch.bin", test);
}

}  // namespace synthetic
