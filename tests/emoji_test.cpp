// The emoji data set (examples/datasets/make_emoji.cpp) from the installed font and list: RGB images of the size
// asked, one class per group, a test split of about a tenth of each class, different emoji giving different
// images, the same bytes when made twice, and one sentence for each bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <unetflow/data/image_folder.hpp>

#include "command.hpp"

namespace fs = std::filesystem;
using test_command::read_text;
using test_command::run;

namespace {

const fs::path font = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf";
const fs::path list = "/usr/share/unicode/emoji/emoji-test.txt";

// Every file under `dir`, by relative path.
std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir));
  std::sort(out.begin(), out.end());
  return out;
}

double mean_abs_difference(const unetflow::ImageSet& set, int a, int b) {
  double d = 0;
  for (std::ptrdiff_t i = 0; i < set.sample_size(); ++i) d += std::abs(set.image(a)[i] - set.image(b)[i]);
  return d / double(set.sample_size());
}

}  // namespace

TEST_CASE("the emoji set: RGB images of every group, a tenth for testing, the same bytes when made twice") {
  if (!fs::exists(font) || !fs::exists(list)) {
    MESSAGE("skipped: fonts-noto-color-emoji or unicode-data is not installed (scripts/setup.sh)");
    return;
  }
  const auto dir = fs::temp_directory_path() / ("unetflow_emoji_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto made = run(std::string(MAKE_EMOJI) + " --out " + (dir / "a").string());
  REQUIRE_MESSAGE(made.status == 0, made.output);
  CHECK(made.output.find("9 classes") != std::string::npos);
  CHECK(made.output.find("0 not in the font") != std::string::npos);

  const auto train = unetflow::load_image_folder(dir / "a" / "train", {{32, 32}});
  const auto test = unetflow::load_image_folder(dir / "a" / "test", {{32, 32}});
  CHECK(train.channels == 3);
  CHECK(train.height == 32);
  CHECK(train.width == 32);
  const std::vector<std::string> groups = {"activities",  "animals-nature",  "flags",   "food-drink",   "objects",
                                           "people-body", "smileys-emotion", "symbols", "travel-places"};
  CHECK(train.class_names == groups);
  CHECK(test.class_names == groups);
  for (int k = 0; k < int(groups.size()); ++k) {  // every tenth of each group: floor(count / 10) test images
    const auto in_train = std::count(train.labels.begin(), train.labels.end(), k);
    const auto in_test = std::count(test.labels.begin(), test.labels.end(), k);
    CHECK_MESSAGE(in_test == (in_train + in_test) / 10, groups[std::size_t(k)]);
    CHECK(in_train >= 50);
  }
  // The README's table and emoji.tsv count the same images.
  const auto readme = read_text(dir / "a" / "README.md");
  const auto tsv = read_text(dir / "a" / "emoji.tsv");
  const auto all = readme.substr(readme.find("| all"), readme.find('\n', readme.find("| all")) - readme.find("| all"));
  CHECK_MESSAGE(all.find(" " + std::to_string(train.n) + " | ") != std::string::npos, all);
  CHECK_MESSAGE(all.find(" " + std::to_string(test.n) + " |") != std::string::npos, all);
  CHECK(std::count(tsv.begin(), tsv.end(), '\n') == 1 + train.n + test.n);
  CHECK(readme.find("SIL Open Font License") != std::string::npos);

  // Colour: the red apple, the blue heart... some pixels have channels far apart; white margins stay white.
  int coloured = 0;
  const std::ptrdiff_t plane = 32 * 32;
  for (int i = 0; i < train.n; ++i) {
    const float* im = train.image(i);
    for (std::ptrdiff_t p = 0; p < plane; ++p)
      if (std::abs(im[p] - im[plane + p]) > 0.3f || std::abs(im[p] - im[2 * plane + p]) > 0.3f) {
        ++coloured;
        break;
      }
    CHECK(im[0] == doctest::Approx(1.0).epsilon(0.02));  // the top-left corner is background in every emoji
  }
  CHECK(coloured > train.n * 3 / 4);
  // Different emoji give different images: neighbours in the list differ by more than rounding.
  for (int i = 0; i + 1 < train.n; i += 97) CHECK(mean_abs_difference(train, i, i + 1) > 0.01);

  // Made twice: the same files, byte for byte.
  REQUIRE(run(std::string(MAKE_EMOJI) + " --out " + (dir / "b").string()).status == 0);
  const auto a = files_under(dir / "a"), b = files_under(dir / "b");
  REQUIRE(a == b);
  int different = 0;
  for (const auto& f : a) different += read_text(dir / "a" / f) != read_text(dir / "b" / f);
  CHECK(different == 0);

  // 64 x 64 on request.
  REQUIRE(run(std::string(MAKE_EMOJI) + " --size 64 --out " + (dir / "c").string()).status == 0);
  CHECK(unetflow::load_image_folder(dir / "c" / "test", {{64, 64}}).height == 64);
  fs::remove_all(dir);
}

TEST_CASE("make_emoji refuses a missing font, a file that is not the list, and a folder that exists") {
  if (!fs::exists(list)) {
    MESSAGE("skipped: unicode-data is not installed (scripts/setup.sh)");
    return;
  }
  const auto dir = fs::temp_directory_path() / ("unetflow_emoji_bad_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "exists");
  test_command::write_text(dir / "exists" / "keep.txt", "a user's file");
  test_command::write_text(dir / "list.txt", "1F600 grinning face\n");
  const std::string program = MAKE_EMOJI;
  const struct {
    std::string args, says;
  } cases[] = {
      {"--out " + (dir / "x").string() + " --font " + (dir / "none.ttf").string(), "does not exist"},
      {"--out " + (dir / "x").string() + " --font " + (dir / "list.txt").string(), "as a font"},
      {"--out " + (dir / "x").string() + " --list " + (dir / "list.txt").string(), "line 1 is neither a comment"},
      {"--out " + (dir / "exists").string(), "exists: remove it first"},
  };
  for (const auto& c : cases) {
    const auto r = run(program + " " + c.args);
    CHECK_MESSAGE(r.status == 1, c.args);
    CHECK_MESSAGE(r.output.find(c.says) != std::string::npos, r.output);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  }
  CHECK(read_text(dir / "exists" / "keep.txt") == "a user's file");
  CHECK(!fs::exists(dir / "x"));
  for (const auto& e : fs::directory_iterator(dir)) CHECK_MESSAGE(e.path().filename().string()[0] != '.', e.path());
  fs::remove_all(dir);
}
