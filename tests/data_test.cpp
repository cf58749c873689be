// The IDX reader on good (raw and gzip), truncated, wrong-magic and wrong-size files; CIFAR-10 binary files; the
// check of a set against a model's input shape; the shuffled loader.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <unetflow/data/cifar.hpp>
#include <unetflow/data/loader.hpp>
#include <unetflow/data/mnist.hpp>

#include "synthetic_idx.hpp"
#include "test_util.hpp"

using namespace unetflow;
namespace fs = std::filesystem;

using test_util::error_of;
using test_util::temp_dir;

TEST_CASE("IDX files: good raw and gzip files read, damaged ones are named and explained") {
  const auto dir = temp_dir("idx");
  SUBCASE("raw and gzip MNIST-like sets load alike") {
    synthetic::write_mnist_like(dir / "raw", "train", 30);
    synthetic::write_mnist_like(dir / "gz", "train", 30, true);
    synthetic::write_mnist_like(dir / "raw", "t10k", 10);
    synthetic::write_mnist_like(dir / "gz", "t10k", 10, true);
    const auto a = load_mnist(dir / "raw", Split::train), b = load_mnist(dir / "gz", Split::train);
    CHECK(a.n == 30);
    CHECK(a.height == 28);
    CHECK(a.images == b.images);
    CHECK(a.labels == b.labels);
    CHECK(a.labels[13] == 3);
    CHECK(*std::max_element(a.images.begin(), a.images.end()) <= 1.0f);
    CHECK(*std::max_element(a.images.begin(), a.images.end()) > 0.78f);
    CHECK(load_mnist(dir / "raw", Split::test).n == 10);
  }
  const std::vector<std::uint8_t> pixels(2 * 28 * 28, 9);
  SUBCASE("truncated") {
    auto bytes = synthetic::idx_bytes({2, 28, 28}, pixels);
    bytes.resize(bytes.size() - 10);
    synthetic::write(dir / "cut", bytes);
    CHECK(error_of([&] { idx::read(dir / "cut", {idx::any, 28, 28}); }).find("cut is truncated: its header promises 1568 values but it holds 1558") != std::string::npos);
    synthetic::write(dir / "tiny", {0, 0, 8, 3, 0});
    CHECK(error_of([&] { idx::read(dir / "tiny", {idx::any, 28, 28}); }).find("tiny is truncated: it ends inside its header") != std::string::npos);
  }
  SUBCASE("wrong magic") {
    synthetic::write(dir / "magic", synthetic::idx_bytes({2, 28, 28}, pixels, 0x0D));
    CHECK(error_of([&] { idx::read(dir / "magic", {idx::any, 28, 28}); }).find("magic number is wrong") != std::string::npos);
  }
  SUBCASE("wrong size") {
    synthetic::write(dir / "size", synthetic::idx_bytes({2, 28, 28}, pixels));
    CHECK(error_of([&] { idx::read(dir / "size", {idx::any, 32, 32}); }).find("has dimension 1 of size 28 where 32 was expected") != std::string::npos);
    CHECK(error_of([&] { idx::read(dir / "size", {idx::any}); }).find("has rank 3 where rank 1 was expected") != std::string::npos);
    auto longer = synthetic::idx_bytes({2, 28, 28}, pixels);
    longer.push_back(1);
    synthetic::write(dir / "long", longer);
    CHECK(error_of([&] { idx::read(dir / "long", {idx::any, 28, 28}); }).find("longer than its header says") != std::string::npos);
    // An expected 0 is a size like any other, not a wildcard; dimensions whose product overflows are refused.
    CHECK(error_of([&] { idx::read(dir / "size", {0, 28, 28}); }).find("has dimension 0 of size 2 where 0 was expected") != std::string::npos);
    synthetic::write(dir / "overflow", synthetic::idx_bytes({0xffffffffu, 0xffffffffu, 0xffffffffu}, pixels));
    CHECK(error_of([&] { idx::read(dir / "overflow", {idx::any, idx::any, idx::any}); }).find("declares dimensions whose product overflows") != std::string::npos);
  }
  SUBCASE("labels that do not match the images") {
    synthetic::write_mnist_like(dir, "train", 30);
    synthetic::write(dir / "train-labels-idx1-ubyte", synthetic::idx_bytes({29}, std::vector<std::uint8_t>(29, 1)));
    CHECK(error_of([&] { load_mnist(dir, Split::train); }).find("has dimension 0 of size 29 where 30 was expected") != std::string::npos);
  }
  SUBCASE("an empty set is refused, whatever its labels") {
    synthetic::write(dir / "train-images-idx3-ubyte", synthetic::idx_bytes({0, 28, 28}, {}));
    synthetic::write(dir / "train-labels-idx1-ubyte", synthetic::idx_bytes({5}, std::vector<std::uint8_t>(5, 1)));
    CHECK(error_of([&] { load_mnist(dir, Split::train); }).find("train-images-idx3-ubyte holds no images (0 of 28x28 pixels).") != std::string::npos);
  }
  SUBCASE("missing files say how to get them") {
    CHECK(error_of([&] { load_mnist(dir / "nothing", Split::train); }).find("run scripts/fetch_mnist.sh or pass --data DIR") != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("keep_first keeps the first images and their labels, as Subset(range(n))") {
  unetflow::ImageSet set;
  set.n = 5, set.channels = 3, set.height = 2, set.width = 2;
  for (int i = 0; i < 5 * 12; ++i) set.images.push_back(float(i));
  set.labels = {4, 3, 2, 1, 0};
  for (const int all : {0, -1, 5, 9}) {
    auto copy = set;
    copy.keep_first(all);
    CHECK(copy.n == 5);
    CHECK(copy.images == set.images);
  }
  set.keep_first(2);
  CHECK(set.n == 2);
  REQUIRE(set.images.size() == 24);
  CHECK(set.images.back() == 23.0f);
  CHECK(set.labels == std::vector<std::uint8_t>{4, 3});
}

TEST_CASE("the loader shuffles with a seeded permutation per epoch") {
  ImageSet set;
  set.n = 50;
  set.height = set.width = 28;
  set.images.resize(50 * 784);
  set.labels.resize(50);
  for (int i = 0; i < 50; ++i) {
    set.images[std::size_t(i) * 784] = float(i);
    set.labels[std::size_t(i)] = std::uint8_t(i % 10);
  }
  ShuffledLoader a(set, 16, 7), b(set, 16, 7), c(set, 16, 8);
  const auto p0 = a.order(0);
  std::set<int> unique(p0.begin(), p0.end());
  CHECK(unique.size() == 50);  // a permutation
  CHECK(*unique.begin() == 0);
  CHECK(*unique.rbegin() == 49);
  CHECK(p0 == b.order(0));     // seeded
  CHECK(p0 != a.order(1));     // a new order each epoch
  CHECK(p0 != c.order(0));     // another seed, another order
  CHECK(a.batches_per_epoch() == 4);
  std::vector<float> images(16 * 784);
  std::vector<std::uint8_t> labels(16);
  std::multiset<int> seen;
  for (int batch = 0; batch < 4; ++batch) {
    const int n = a.fill(0, batch, images.data(), labels.data());
    CHECK(n == (batch < 3 ? 16 : 2));  // the last batch holds the remainder
    for (int i = 0; i < n; ++i) {
      const int id = int(images[std::size_t(i) * 784]);
      CHECK(id == p0[std::size_t(batch * 16 + i)]);
      CHECK(labels[std::size_t(i)] == id % 10);
      seen.insert(id);
    }
  }
  CHECK(seen.size() == 50);
  CHECK(std::set<int>(seen.begin(), seen.end()).size() == 50);
}

namespace {
// A CIFAR-10 binary file of `records` records: record r has label (r + first) % 10 and pixel i = (r + i) % 256.
void write_cifar(const fs::path& path, int records, int first = 0) {
  std::vector<std::uint8_t> bytes;
  for (int r = 0; r < records; ++r) {
    bytes.push_back(std::uint8_t((r + first) % 10));
    for (int i = 0; i < 3072; ++i) bytes.push_back(std::uint8_t((r + i) % 256));
  }
  synthetic::write(path, bytes);
}
}  // namespace

TEST_CASE("CIFAR-10 binary files: channel-major 3x32x32 images and labels, damaged files are named and explained") {
  const auto dir = temp_dir("cifar");
  for (int i = 1; i <= 5; ++i) write_cifar(dir / ("data_batch_" + std::to_string(i) + ".bin"), 3, i);
  write_cifar(dir / "test_batch.bin", 4);
  const auto train = load_cifar10(dir, Split::train), test = load_cifar10(dir, Split::test);
  CHECK(train.n == 15);
  CHECK(test.n == 4);
  CHECK(train.shape_text() == "3x32x32");
  CHECK(train.images.size() == 15u * 3072u);
  CHECK(train.labels[0] == 1);   // file 1, record 0
  CHECK(train.labels[14] == 7);  // file 5, record 2
  // Record 1 of the test file: red (0, 0) is pixel 0, green (0, 0) pixel 1024, blue (31, 31) pixel 3071.
  const float* image = test.image(1);
  CHECK(image[0] == doctest::Approx(1 / 255.0f));
  CHECK(image[1024] == doctest::Approx(float((1 + 1024) % 256) / 255.0f));
  CHECK(image[3071] == doctest::Approx(float((1 + 3071) % 256) / 255.0f));
  CHECK_NOTHROW(check_images_fit<Shape<3, 32, 32>>(test, "the test set"));
  CHECK(error_of([&] { check_images_fit<Shape<1, 28, 28>>(test, "the test set"); }) ==
        "the test set (" + dir.string() + ") holds 3x32x32 images (channels x height x width) but the model takes 1x28x28.");

  fs::create_directories(dir / "cut");
  fs::create_directories(dir / "label");
  synthetic::write(dir / "cut" / "test_batch.bin", std::vector<std::uint8_t>(3073 * 2 - 5, 1));
  CHECK(error_of([&] { load_cifar10(dir / "cut", Split::test); }).find("is 6141 bytes, not a whole number of 3073-byte CIFAR-10 records") != std::string::npos);
  std::vector<std::uint8_t> bad(3073, 0);
  bad[0] = 12;
  synthetic::write(dir / "label" / "test_batch.bin", bad);
  CHECK(error_of([&] { load_cifar10(dir / "label", Split::test); }).find("record 0 has label 12, outside 0-9") != std::string::npos);
  fs::remove(dir / "data_batch_4.bin");
  CHECK(error_of([&] { load_cifar10(dir, Split::train); }).find("no data_batch_4.bin in") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a model whose input differs from the set's images is refused: 3 channels on MNIST, 28x28 on CIFAR") {
  const auto dir = temp_dir("fit");
  synthetic::write_mnist_like(dir, "train", 8);
  const auto mnist = load_mnist(dir, Split::train);
  CHECK(mnist.shape_text() == "1x28x28");
  CHECK(error_of([&] { check_images_fit<Shape<3, 28, 28>>(mnist, "the training set"); }).find("holds 1x28x28 images (channels x height x width) but the model takes 3x28x28.") != std::string::npos);
  CHECK_NOTHROW(check_images_fit<Shape<1, 28, 28>>(mnist, "the training set"));
  auto broken = mnist;
  broken.images.pop_back();
  CHECK(error_of([&] { check_images_fit<Shape<1, 28, 28>>(broken, "the training set"); }).find("is inconsistent") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a set with fewer images than asked for, or a class beyond those a model takes, is refused in one sentence") {
  const auto dir = temp_dir("counts");
  synthetic::write_mnist_like(dir, "t10k", 8);  // labels 0..7
  const auto set = load_mnist(dir, Split::test);
  CHECK_NOTHROW(require_images(set, 8, "the test set", "the figures show"));
  CHECK(error_of([&] { require_images(set, 9, "the test set", "the figures show"); })
            .find("the test set (" + set.source + ") holds 8 images, fewer than the 9 the figures show.") != std::string::npos);
  CHECK_NOTHROW(require_classes(set, 8, "these models"));
  CHECK(error_of([&] { require_classes(set, 7, "these models"); })
            .find("has a class 7 (image 7); these models take at most 7 classes, 0-6.") != std::string::npos);
  fs::remove_all(dir);
}
