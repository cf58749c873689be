#pragma once
// A colour emoji font (Debian: fonts-noto-color-emoji, /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf) drawn
// into small RGB images: HarfBuzz turns an emoji's code points into the font's glyph (a flag is two regional
// indicators, a family a sequence joined by U+200D: only shaping finds their one glyph), FreeType loads that glyph's
// colour bitmap (BGRA, premultiplied alpha), which is laid onto white, centred in a square and resized with stb's
// resizer (Mitchell filter, in linear light: stbir_resize_uint8_srgb).
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_SFNT_NAMES_H
#include FT_TRUETYPE_IDS_H
#include <hb-ft.h>
#include <hb.h>

#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb/stb_image_resize.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>
#include <unetflow/error.hpp>

namespace examples {

class EmojiFont {
 public:
  explicit EmojiFont(const std::filesystem::path& path) : path_(path) {
    using unetflow::Error;
    if (!std::filesystem::is_regular_file(path))
      throw Error("the emoji font " + path.string() +
                  " does not exist (install fonts-noto-color-emoji: scripts/setup.sh).");
    if (FT_Init_FreeType(&library_) != 0) throw Error("FreeType could not start.");
    if (const FT_Error e = FT_New_Face(library_, path.c_str(), 0, &face_); e != 0) {
      FT_Done_FreeType(library_);
      throw Error("FreeType cannot read " + path.string() + " as a font (error " + std::to_string(e) + ").");
    }
    if (!FT_HAS_COLOR(face_) || face_->num_fixed_sizes < 1) {
      release();
      throw Error(path.string() + " is not a colour bitmap font (no colour glyphs at fixed sizes): use " +
                  "NotoColorEmoji.ttf.");
    }
    int largest = 0;  // the sharpest strike: the resizer does the rest
    for (int i = 1; i < face_->num_fixed_sizes; ++i)
      if (face_->available_sizes[i].height > face_->available_sizes[largest].height) largest = i;
    if (FT_Select_Size(face_, largest) != 0) {
      release();
      throw Error("FreeType cannot select the bitmap size of " + path.string() + ".");
    }
    font_ = hb_ft_font_create_referenced(face_);
  }
  EmojiFont(const EmojiFont&) = delete;
  EmojiFont& operator=(const EmojiFont&) = delete;
  ~EmojiFont() { release(); }

  // The font's own version string (its name table), for the data set's README.
  std::string version() const {
    FT_SfntName name;
    for (FT_UInt i = 0, n = FT_Get_Sfnt_Name_Count(face_); i < n; ++i)
      if (FT_Get_Sfnt_Name(face_, i, &name) == 0 && name.name_id == TT_NAME_ID_VERSION_STRING &&
          name.platform_id == TT_PLATFORM_MACINTOSH)
        return std::string(reinterpret_cast<const char*>(name.string), name.string_len);
    return "unknown";
  }

  // The one glyph the font draws for these code points, or 0 when it has none (shaping left several glyphs, or
  // the missing glyph). Variation selectors and joiners that remain are not drawn and do not count.
  unsigned glyph(const std::vector<char32_t>& codepoints) const {
    hb_buffer_t* buffer = hb_buffer_create();
    hb_buffer_set_flags(buffer, HB_BUFFER_FLAG_REMOVE_DEFAULT_IGNORABLES);
    static_assert(sizeof(char32_t) == sizeof(uint32_t));
    hb_buffer_add_utf32(buffer, reinterpret_cast<const uint32_t*>(codepoints.data()), int(codepoints.size()), 0,
                        int(codepoints.size()));
    hb_buffer_guess_segment_properties(buffer);
    hb_shape(font_, buffer, nullptr, 0);
    unsigned count = 0;
    const hb_glyph_info_t* info = hb_buffer_get_glyph_infos(buffer, &count);
    const unsigned result = count == 1 ? info[0].codepoint : 0;
    hb_buffer_destroy(buffer);
    return result;
  }

  // Glyph `id` laid onto white, centred in a square, resized to size x size: RGB bytes, 3 per pixel, row-major.
  std::vector<unsigned char> render(unsigned id, int size) const {
    using unetflow::Error;
    if (FT_Load_Glyph(face_, id, FT_LOAD_COLOR) != 0)
      throw Error("FreeType cannot load glyph " + std::to_string(id) + " of " + path_.string() + ".");
    const FT_Bitmap& bitmap = face_->glyph->bitmap;
    const int w = int(bitmap.width), h = int(bitmap.rows);
    if (bitmap.pixel_mode != FT_PIXEL_MODE_BGRA || w < 1 || h < 1 || w > 4096 || h > 4096 || bitmap.pitch < 4 * w)
      throw Error("glyph " + std::to_string(id) + " of " + path_.string() + " is not a colour bitmap.");
    const int side = std::max(w, h), x0 = (side - w) / 2, y0 = (side - h) / 2;
    std::vector<unsigned char> square(std::size_t(side) * side * 3, 255);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const unsigned char* bgra = bitmap.buffer + std::ptrdiff_t(y) * bitmap.pitch + 4 * x;
        unsigned char* rgb = &square[(std::size_t(y + y0) * side + std::size_t(x + x0)) * 3];
        const int uncovered = 255 - bgra[3];  // premultiplied: colour + (1 - alpha) * white
        for (int c = 0; c < 3; ++c) rgb[c] = (unsigned char)std::min(255, bgra[2 - c] + uncovered);
      }
    std::vector<unsigned char> out(std::size_t(size) * size * 3);
    if (!stbir_resize_uint8_srgb(square.data(), side, side, 0, out.data(), size, size, 0, 3, STBIR_ALPHA_CHANNEL_NONE,
                                 0))
      throw Error("stb's resizer failed on glyph " + std::to_string(id) + ".");
    return out;
  }

 private:
  void release() {
    if (font_) hb_font_destroy(font_);
    if (face_) FT_Done_Face(face_);
    if (library_) FT_Done_FreeType(library_);
    font_ = nullptr, face_ = nullptr, library_ = nullptr;
  }
  std::filesystem::path path_;
  FT_Library library_ = nullptr;
  FT_Face face_ = nullptr;
  hb_font_t* font_ = nullptr;
};

}  // namespace examples
