#pragma once
// Unicode's list of emoji, emoji-test.txt (Debian: unicode-data, /usr/share/unicode/emoji/emoji-test.txt): every
// fully-qualified emoji with its code points, its name and the group it is listed under. Lines look like
//   # group: Smileys & Emotion
//   1F600 ; fully-qualified # 😀 E1.0 grinning face
// and every field is checked as it is read: a file that is not this list stops with one sentence naming it.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <unetflow/error.hpp>

namespace examples {

struct Emoji {
  std::vector<char32_t> codepoints;
  std::string name, group;
};

struct EmojiList {
  std::string version;  // the list's "# Version:" line, e.g. "15.0"
  std::vector<Emoji> emoji;
};

namespace detail {
inline std::string trimmed(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}
}  // namespace detail

// The fully-qualified emoji of `path`, in the list's order.
inline EmojiList read_emoji_list(const std::filesystem::path& path) {
  using unetflow::Error;
  std::ifstream in(path);
  if (!in) throw Error("cannot read the emoji list " + path.string() + " (install unicode-data: scripts/setup.sh).");
  EmojiList list;
  std::string line, group;
  for (int number = 1; std::getline(in, line); ++number) {
    const auto where = path.string() + " line " + std::to_string(number);
    if (line.starts_with("# group:")) {
      group = detail::trimmed(line.substr(8));
      if (group.empty()) throw Error(where + " names an empty group.");
      continue;
    }
    if (line.starts_with("# Version:")) list.version = detail::trimmed(line.substr(10));
    if (line.empty() || line[0] == '#') continue;
    const auto semicolon = line.find(';'), hash = line.find('#');
    if (semicolon == std::string::npos || hash == std::string::npos || hash < semicolon)
      throw Error(where + " is neither a comment nor 'code points ; status # emoji name' (not emoji-test.txt?).");
    if (detail::trimmed(line.substr(semicolon + 1, hash - semicolon - 1)) != "fully-qualified") continue;
    if (group.empty()) throw Error(where + " lists an emoji before any '# group:' line.");
    Emoji e;
    e.group = group;
    const auto codes = line.substr(0, semicolon);
    for (std::size_t at = codes.find_first_not_of(' '); at != std::string::npos && at < codes.size();
         at = codes.find_first_not_of(' ', at)) {
      const auto end = std::min(codes.find(' ', at), codes.size());
      const auto hex = codes.substr(at, end - at);
      if (hex.size() > 6 || hex.find_first_not_of("0123456789ABCDEFabcdef") != std::string::npos)
        throw Error(where + ": '" + hex + "' is not a code point in hexadecimal.");
      const auto value = std::stoul(hex, nullptr, 16);
      if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
        throw Error(where + ": " + hex + " is not a Unicode scalar value.");
      e.codepoints.push_back(char32_t(value));
      at = end;
    }
    if (e.codepoints.empty() || e.codepoints.size() > 16)
      throw Error(where + " lists " + std::to_string(e.codepoints.size()) + " code points (1 to 16 expected).");
    // After '#': the emoji itself, its version ("E1.0"), then the name.
    const auto comment = detail::trimmed(line.substr(hash + 1));
    const auto version = comment.find(" E");
    if (version == std::string::npos) throw Error(where + " has no 'E<version> name' after the emoji.");
    const auto name_at = comment.find(' ', version + 2);
    e.name = name_at == std::string::npos ? std::string() : detail::trimmed(comment.substr(name_at));
    if (e.name.empty()) throw Error(where + " has no emoji name.");
    list.emoji.push_back(std::move(e));
  }
  if (list.emoji.empty())
    throw Error(path.string() + " lists no fully-qualified emoji: it is not Unicode's emoji-test.txt.");
  return list;
}

// A group's folder name: lower case, words joined by '-' ("Smileys & Emotion" -> "smileys-emotion").
inline std::string group_folder(const std::string& group) {
  std::string out;
  for (char ch : group) {
    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
      out += char(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

}  // namespace examples
