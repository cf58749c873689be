// Image grids: grey and colour (channel-major RGB) tiles land in the PNG where they should, read back with stb_image;
// a folder of images with a sub-folder per class reads as a data set; every writer fails whole on a full disk.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <unetflow/data/image_folder.hpp>
#include <unetflow/io/figures.hpp>
#include <unetflow/io/npy.hpp>
#include <unetflow/io/safetensors.hpp>
#include <utility>
#include <vector>

#include "test_util.hpp"

using namespace unetflow;

TEST_CASE("image grids: colour tiles keep their channels, grey tiles are grey, other channel counts are refused") {
  const auto dir = test_util::temp_dir("figures");
  // Two 3x2x2 tiles: the first pure red, the second blue in its top-left pixel and green elsewhere.
  std::vector<float> tiles(2 * 12, 0.0f);
  for (int p = 0; p < 4; ++p) tiles[std::size_t(p)] = 1.0f;  // tile 0, red plane
  tiles[12 + 8 + 0] = 1.0f;                                    // tile 1, blue plane, pixel (0, 0)
  for (int p = 1; p < 4; ++p) tiles[std::size_t(12 + 4 + p)] = 0.5f;  // tile 1, green plane
  write_image_grid_png(dir / "colour.png", tiles.data(), 1, 2, 3, 2, 2, /*zoom=*/1, /*gap=*/1);
  int w = 0, h = 0, c = 0;
  unsigned char* px = stbi_load((dir / "colour.png").c_str(), &w, &h, &c, 3);
  REQUIRE(px);
  CHECK(w == 2 * 2 + 3);
  CHECK(h == 2 + 2);
  auto at = [&](int x, int y, int k) { return int(px[(y * w + x) * 3 + k]); };
  CHECK((at(1, 1, 0) == 255 && at(1, 1, 1) == 0 && at(1, 1, 2) == 0));    // tile 0: red
  CHECK((at(4, 1, 0) == 0 && at(4, 1, 1) == 0 && at(4, 1, 2) == 255));    // tile 1, (0, 0): blue
  CHECK((at(5, 2, 0) == 0 && at(5, 2, 1) == 128 && at(5, 2, 2) == 0));    // tile 1, (1, 1): half green
  CHECK((at(0, 0, 0) == 255 && at(0, 0, 1) == 255 && at(0, 0, 2) == 255));  // the white border
  stbi_image_free(px);

  const std::vector<float> grey{0.0f, 1.0f, 0.25f, 0.5f};
  write_tiles_png(dir / "grey.png", grey.data(), 1, 1, 2, 2, 1, 0);
  px = stbi_load((dir / "grey.png").c_str(), &w, &h, &c, 3);
  REQUIRE(px);
  CHECK((at(1, 0, 0) == 255 && at(1, 0, 1) == 255 && at(0, 1, 2) == 64));
  stbi_image_free(px);
  CHECK(test_util::error_of([&] { write_image_grid_png(dir / "x.png", tiles.data(), 1, 1, 2, 2, 2); }).find("2 channels") !=
        std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a folder of images, one sub-folder per class: labels by folder name, channel-major pixels, checked sizes") {
  namespace fs = std::filesystem;
  const auto dir = test_util::temp_dir("image_folder");
  fs::create_directories(dir / "set" / "cat");
  fs::create_directories(dir / "set" / "ant");
  // 2x2 RGB images: pixel p of image k has red 10k + p, green 100, blue 200 (interleaved, as a PNG stores them).
  auto write_rgb = [&](const fs::path& path, int k) {
    std::vector<unsigned char> px;
    for (int p = 0; p < 4; ++p) px.insert(px.end(), {static_cast<unsigned char>(10 * k + p), 100, 200});
    REQUIRE(stbi_write_png(path.c_str(), 2, 2, 3, px.data(), 6));
  };
  write_rgb(dir / "set" / "ant" / "b.png", 2);
  write_rgb(dir / "set" / "ant" / "a.png", 1);
  write_rgb(dir / "set" / "cat" / "c.png", 3);
  const auto set = load_image_folder(dir / "set");
  CHECK(set.n == 3);
  CHECK(set.shape_text() == "3x2x2");
  CHECK(set.class_names == std::vector<std::string>{"ant", "cat"});
  CHECK(set.labels == std::vector<std::uint8_t>{0, 0, 1});
  // Image 1 is ant/b.png (k = 2): red plane 20, 21, 22, 23; green plane 100; blue plane 200.
  const float* image = set.image(1);
  CHECK(image[0] == doctest::Approx(20 / 255.0f));
  CHECK(image[3] == doctest::Approx(23 / 255.0f));
  CHECK(image[4] == doctest::Approx(100 / 255.0f));
  CHECK(image[11] == doctest::Approx(200 / 255.0f));
  CHECK_NOTHROW(check_images_fit<Shape<3, 2, 2>>(set, "the set"));

  std::vector<unsigned char> big(3 * 3 * 3, 7);
  REQUIRE(stbi_write_png((dir / "set" / "cat" / "d.png").c_str(), 3, 3, 3, big.data(), 9));
  CHECK(test_util::error_of([&] { load_image_folder(dir / "set"); }).find("is 3x3 but") != std::string::npos);
  fs::remove(dir / "set" / "cat" / "d.png");
  { std::ofstream(dir / "set" / "cat" / "notes.txt") << "not an image"; }
  CHECK(test_util::error_of([&] { load_image_folder(dir / "set"); }).find("notes.txt is not an image") != std::string::npos);
  CHECK(test_util::error_of([&] { load_image_folder(dir / "nothing"); }).find("is not a folder") != std::string::npos);
  fs::remove_all(dir);
}

namespace {
// Makes PATH's temporary a link to /dev/full, so that the next write of PATH fails as on a full disk.
bool fill_disk_for(const std::filesystem::path& path) {
  if (!std::filesystem::exists("/dev/full")) return false;
  std::filesystem::remove(temporary_for(path));
  std::filesystem::create_symlink("/dev/full", temporary_for(path));
  return true;
}
std::string contents(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_CASE("a write that fails (full disk) names the file and why, and leaves the previous file whole") {
  const auto dir = test_util::temp_dir("full_disk");
  if (!std::filesystem::exists("/dev/full")) {
    MESSAGE("skipped: no /dev/full on this machine");
    return;
  }
  const std::vector<double> losses{0.9, 0.5, 0.3};
  const std::vector<float> tiles(2 * 4 * 4, 0.5f), values{1, 2, 3, 4};
  // Each writer, once to make a good file, then again onto a "full disk".
  const std::vector<std::pair<std::string, std::function<void(const std::filesystem::path&)>>> writers{
      {"loss.csv", [&](const auto& p) { write_loss_csv(p, losses); }},
      {"grid.png", [&](const auto& p) { write_image_grid_png(p, tiles.data(), 1, 2, 1, 4, 4); }},
      {"values.npy", [&](const auto& p) { write_npy(p, values.data(), {2, 2}); }},
      {"weights.safetensors", [&](const auto& p) {
         safetensors::File f;
         f.tensors["w"] = {safetensors::DType::F32, {4}, std::vector<char>(16, 1)};
         safetensors::write(p, f);
       }},
      {"loss.png", [&](const auto& p) { write_loss_chart(p, dir / "loss.csv", "loss", 1); }},
  };
  for (const auto& writer : writers) {
    const std::string& name = writer.first;  // (not bound: clang 14 refuses bindings inside lambdas and CAPTURE)
    const auto& write = writer.second;
    CAPTURE(name);
    const auto path = dir / name;
    write(path);
    const std::string good = contents(path);
    REQUIRE(!good.empty());
    REQUIRE(fill_disk_for(path));
    const std::string error = test_util::error_of([&] { write(path); });
    if (name == "loss.png")  // gnuplot writes it: its failure is reported, not its errno
      CHECK(error.find("gnuplot could not draw " + path.string()) != std::string::npos);
    else
      CHECK(error.find("cannot write " + path.string() + ": No space left on device") != std::string::npos);
    CHECK(contents(path) == good);  // the previous file, whole
    CHECK(!std::filesystem::exists(temporary_for(path)));
    CHECK(!std::filesystem::is_symlink(temporary_for(path)));
  }
}

namespace {
std::string bytes_of(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void put(const std::filesystem::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }
// A .npy file with the given version and header text (padded to 16 bytes and ended with a newline) and data bytes.
std::string npy_file(int major, std::string header, const std::string& data) {
  const std::size_t preamble = major == 1 ? 10 : 12;
  while ((preamble + header.size() + 1) % 16) header += ' ';
  header += '\n';
  std::string s = std::string("\x93NUMPY", 6) + char(major) + '\0';
  const std::size_t n = header.size();
  for (std::size_t k = 0; k < preamble - 8; ++k) s += char((n >> (8 * k)) & 0xff);
  return s + header + data;
}
// The message of the Error that reading `p` as T throws ("" when it reads).
template <class T>
std::string npy_error(const std::filesystem::path& p) {
  try {
    (void)read_npy_array<T>(p);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE(".npy reading: what write_npy writes reads back, and every damaged or foreign file is refused naming it") {
  const auto dir = test_util::temp_dir("npy");
  const std::vector<float> values{1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -8.5f};
  write_npy(dir / "f.npy", values.data(), {2, 3});
  const auto a = read_npy_array<float>(dir / "f.npy");
  CHECK(a.shape == std::vector<std::size_t>{2, 3});
  CHECK(a.data == values);
  const std::vector<std::int64_t> labels{3, 1, 4};
  write_npy(dir / "i.npy", labels.data(), {3});
  CHECK(read_npy<std::int64_t>(dir / "i.npy") == labels);

  // Versions 2 and 3 (4-byte header length) and a 0-d array read as well.
  std::string four(reinterpret_cast<const char*>(values.data()), 16);
  put(dir / "v2.npy", npy_file(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", four));
  CHECK(read_npy_array<float>(dir / "v2.npy").data == std::vector<float>(values.begin(), values.begin() + 4));
  put(dir / "scalar.npy", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", four.substr(0, 4)));
  CHECK(read_npy_array<float>(dir / "scalar.npy").data == std::vector<float>{1.5f});

  const std::string good = bytes_of(dir / "f.npy");
  REQUIRE(good.size() > 10);
  std::string no_newline = good;  // the header's last byte, the newline, made something else
  no_newline[10 + std::size_t((unsigned char)good[8] | (unsigned char)good[9] << 8) - 1] = 'x';
  struct Case {
    const char* name;
    std::string bytes;
    const char* message;
  };
  const std::vector<Case> cases{
      {"cut.npy", good.substr(0, good.size() - 4), "needs 24 bytes of data, the file holds 20 (cut short)"},
      {"extra.npy", good + "abcd", "(extra bytes at its end)"},
      {"empty.npy", "", "is not a .npy file"},
      {"text.npy", "hello, this is not numpy", "is not a .npy file"},
      {"huge_header.npy", std::string("\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12), "declares a .npy header of 2147483647 bytes but holds only 12 bytes"},
      {"empty_header.npy", std::string("\x93NUMPY\x01\x00\x00\x00", 10), "has an empty .npy header"},
      {"version9.npy", std::string("\x93NUMPY\x09\x00\x10\x00", 10) + std::string(16, ' '), "version 9"},
      {"no_newline.npy", no_newline, "not a dictionary ending in a newline"},
      {"double.npy", npy_file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", four), "holds values of type '<f8', not the <f4 expected"},
      {"fortran.npy", npy_file(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (4,), }", four), "Fortran order"},
      {"overflow.npy", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776, 1099511627776), }", four),
       "overflows"},
      {"negative.npy", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", four), "is not a tuple of non-negative integers"},
      {"no_shape.npy", npy_file(1, "{'descr': '<f4', 'fortran_order': False, }", four), "has no 'shape' entry"},
      {"open_shape.npy", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, ", ""), "'shape' entry is not closed"},
  };
  for (const auto& c : cases) {
    const auto p = dir / c.name;
    put(p, c.bytes);
    const auto message = npy_error<float>(p);
    INFO(c.name, ": ", message);
    CHECK(message.find(c.message) != std::string::npos);
    CHECK(message.find(p.string()) != std::string::npos);
  }
  CHECK(npy_error<std::int64_t>(dir / "f.npy").find("holds values of type '<f4', not the <i8 expected") != std::string::npos);
  CHECK(npy_error<float>(dir / "absent.npy").find("cannot read") != std::string::npos);
}
