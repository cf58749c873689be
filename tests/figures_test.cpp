// Image grids: grey and colour (channel-major RGB) tiles land in the PNG where they should, read back with stb_image.
#include <doctest/doctest.h>

#include <filesystem>
#include <unetflow/io/figures.hpp>
#include <vector>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

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
