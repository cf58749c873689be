// Makes the emoji data set: every fully-qualified emoji of Unicode's emoji-test.txt that the colour emoji font draws
// as one glyph, rendered onto white and resized to 32 x 32 (or 64 x 64), one class per group, as the train/ and
// test/ image folders the programs read (--data DIR):
//   make_emoji --out data/emoji            (scripts/make_emoji.sh does this, after checking the packages)
// Left out, and why: the Component group (skin tones and hair styles on their own are parts, not emoji) and every
// sequence with a skin-tone modifier (U+1F3FB-1F3FF): 1,785 of People & Body's 2,148 entries are the other 363
// drawn in five tones, which would make one class 61 % of the set and put copies of one drawing on both sides of the
// split. Flags (regional-indicator pairs, tag sequences) and joined sequences (families, professions) are kept:
// HarfBuzz shapes them into the font's one glyph. Every tenth emoji of each group, in the list's order, is a test
// image (positions 10, 20, ...): the split is the same on every machine and keeps each group's share.
// The set is written into a hidden sibling folder and renamed to --out once complete; --out must not exist.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <unetflow/io/figures.hpp>
#include <vector>

#include "datasets/emoji_font.hpp"
#include "datasets/emoji_list.hpp"

namespace {

namespace fs = std::filesystem;
using unetflow::Error;

struct Item {
  const examples::Emoji* emoji;
  unsigned glyph;
  bool test;
  std::string file;  // train/<class>/0001.png
};

// A plain checked write: the set's folder is renamed into place only once every file is written, so the files need
// no atomic replacement (and no sync each) of their own.
void write_file(const fs::path& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw Error("cannot create " + path.string() + ".");
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (std::fclose(f) != 0 || !written) throw Error("cannot write " + path.string() + " (disk full?).");
}

std::string hex(const std::vector<char32_t>& codepoints) {
  std::string s;
  char buf[16];
  for (char32_t c : codepoints) {
    std::snprintf(buf, sizeof buf, "%s%04X", s.empty() ? "" : " ", unsigned(c));
    s += buf;
  }
  return s;
}

bool has_skin_tone(const examples::Emoji& e) {
  for (char32_t c : e.codepoints)
    if (c >= 0x1F3FB && c <= 0x1F3FF) return true;
  return false;
}

int make(const fs::path& out, const fs::path& font_path, const fs::path& list_path, int size) {
  std::error_code ec;
  if (fs::exists(out, ec)) throw Error("--out " + out.string() + " exists: remove it first or choose another folder.");
  const auto list = examples::read_emoji_list(list_path);
  const examples::EmojiFont font(font_path);

  // Classes in the list's order of groups; their folder names sort as the readers number them.
  std::vector<std::string> groups;
  std::map<std::string, std::vector<Item>> items;
  std::vector<const examples::Emoji*> missing;
  int skin_toned = 0;
  for (const auto& e : list.emoji) {
    if (e.group == "Component") continue;
    if (has_skin_tone(e)) {
      ++skin_toned;
      continue;
    }
    const unsigned glyph = font.glyph(e.codepoints);
    if (glyph == 0) {
      missing.push_back(&e);
      continue;
    }
    auto& in_group = items[e.group];
    if (in_group.empty()) groups.push_back(e.group);
    in_group.push_back({&e, glyph, in_group.size() % 10 == 9, ""});
  }

  const auto partial = (out.has_parent_path() ? out.parent_path() : fs::path(".")) /
                       ("." + out.filename().string() + ".partial-" + std::to_string(::getpid()));
  fs::create_directories(partial.parent_path(), ec);
  if (!fs::create_directory(partial, ec) || ec)
    throw Error("cannot create " + partial.string() + (ec ? " (" + ec.message() + ")." : " (it exists)."));
  try {
    std::ostringstream table, tsv;
    tsv << "split\tclass\tfile\tcode points\tname\n";
    int train_total = 0, test_total = 0;
    for (const auto& group : groups) {
      const auto folder = examples::group_folder(group);
      int counts[2] = {0, 0};
      for (auto& item : items[group]) {
        const char* split = item.test ? "test" : "train";
        const fs::path dir = partial / split / folder;
        fs::create_directories(dir);
        char name[16];
        std::snprintf(name, sizeof name, "%04d.png", ++counts[item.test]);
        item.file = std::string(split) + "/" + folder + "/" + name;
        write_file(partial / item.file,
                   unetflow::encode_png(font.render(item.glyph, size).data(), size, size, item.file));
        tsv << split << '\t' << folder << '\t' << item.file << '\t' << hex(item.emoji->codepoints) << '\t'
            << item.emoji->name << '\n';
      }
      char row[160];
      std::snprintf(row, sizeof row, "| %-18s | %-18s | %5d | %4d |\n", group.c_str(), folder.c_str(), counts[0],
                    counts[1]);
      table << row;
      train_total += counts[0], test_total += counts[1];
    }
    char total[160];
    std::snprintf(total, sizeof total, "| %-18s | %-18s | %5d | %4d |\n", "all", "", train_total, test_total);
    const std::string header =
        "| group              | class folder       | train | test |\n"
        "|--------------------|--------------------|-------|------|\n";
    std::ostringstream readme;
    readme << "# Emoji, " << size << " x " << size << " RGB, one class per group\n\n"
           << "Every fully-qualified emoji of Unicode's emoji-test.txt (version " << list.version
           << ") that the font draws as one glyph, rendered by FreeType from " << font_path.filename().string() << " ("
           << font.version() << "), laid onto white, centred and resized with stb's resizer "
           << "(Mitchell filter, linear light). Made by make_emoji (unetflow, examples/datasets/make_emoji.cpp).\n\n"
           << header << table.str() << total << "\n"
           << "Left out: the Component group, " << skin_toned << " sequences with a skin-tone modifier (the same "
           << "drawings in five tones), and " << missing.size() << " the font has no single glyph for.\n"
           << "Split: every tenth emoji of each group, in the list's order, is in test/.\n"
           << "emoji.tsv lists every image with its code points and name.\n\n"
           << "Licence: the images are renderings of Noto Color Emoji (Copyright 2013-2017 Google Inc.; the font "
           << "is under the SIL Open Font License 1.1, see /usr/share/doc/fonts-noto-color-emoji/copyright); the "
           << "list, names and groups are Unicode's (Unicode License v3, https://www.unicode.org/license.txt).\n";
    write_file(partial / "README.md", readme.str());
    write_file(partial / "emoji.tsv", tsv.str());
    fs::rename(partial, out, ec);
    if (ec) throw Error("cannot put the set in place as " + out.string() + ": " + ec.message() + ".");
    std::printf("%s%s%s", header.c_str(), table.str().c_str(), total);
    std::printf(
        "%d classes, %d train and %d test images of %d x %d in %s (chance: %.1f %%); left out: %d "
        "skin-toned, %zu not in the font\n",
        int(groups.size()), train_total, test_total, size, size, out.c_str(), 100.0 / double(groups.size()), skin_toned,
        missing.size());
  } catch (...) {
    fs::remove_all(partial, ec);  // only the folder this run created
    throw;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Make the emoji data set (train/ and test/ image folders, one class per emoji group)"};
  fs::path out, font = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
                list = "/usr/share/unicode/emoji/emoji-test.txt";
  int size = 32;
  app.add_option("--out", out, "the folder to create (must not exist)")->required();
  app.add_option("--font", font, "colour emoji font (fonts-noto-color-emoji)")->capture_default_str();
  app.add_option("--list", list, "Unicode's emoji-test.txt (unicode-data)")->capture_default_str();
  app.add_option("--size", size, "side of the images")->check(CLI::IsMember({32, 64}))->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    return make(out, font, list, size);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
