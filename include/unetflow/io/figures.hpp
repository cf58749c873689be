#pragma once
// Figures for reports: image grids (stb_image_write for the pixels, gnuplot for the title and the row and
// column labels) and loss curves (gnuplot from a CSV). Every figure's gnuplot script is kept beside its PNG so
// it can be restyled, and its data too (the caller writes the .npy / .csv that the figure shows). Every file is
// written atomically (atomic_file.hpp): gnuplot draws into PNG.tmp, which replaces the PNG once it is complete.
// Needs stb_image_write: link the CMake target unetflow::figures (and gnuplot-nox at run time for labelled figures).
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <fcntl.h>
#include <stb/stb_image_write.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "../error.hpp"
#include "atomic_file.hpp"

namespace unetflow {

// An RGB image (3 bytes a pixel, row-major) as the bytes of a PNG file; `what` names it in the message.
inline std::string encode_png(const unsigned char* rgb, int width, int height, const std::string& what) {
  std::string png;
  auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), std::size_t(size));
  };
  if (!stbi_write_png_to_func(append, &png, width, height, 3, rgb, width * 3))
    throw Error("cannot encode the image " + what + ".");
  return png;
}

// A rows x cols grid of tiles of `channels` x h x w values (1: grey, 3: RGB, channel-major as the models'
// samples), tile (r, c) at tiles[(r * cols + c) * channels * h * w], values clamped to [0, 1]. Writes an RGB PNG,
// each tile enlarged `zoom` times, with a `gap`-pixel white border.
inline void write_image_grid_png(const std::filesystem::path& path, const float* tiles, int rows, int cols,
                                 int channels, int h, int w, int zoom = 3, int gap = 2) {
  if (channels != 1 && channels != 3)
    throw Error("cannot draw " + path.string() + ": images of " + std::to_string(channels) +
                " channels are neither grey (1) nor RGB (3).");
  const int th = h * zoom, tw = w * zoom;
  const int H = rows * th + (rows + 1) * gap, W = cols * tw + (cols + 1) * gap;
  const std::ptrdiff_t plane = std::ptrdiff_t(h) * w;
  std::vector<unsigned char> rgb(std::size_t(H) * W * 3, 255);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const float* t = tiles + std::ptrdiff_t(r * cols + c) * channels * plane;
      for (int y = 0; y < th; ++y)
        for (int x = 0; x < tw; ++x) {
          unsigned char* o =
              &rgb[(std::size_t(gap + r * (th + gap) + y) * W + std::size_t(gap + c * (tw + gap) + x)) * 3];
          for (int k = 0; k < 3; ++k) {
            const float v = std::clamp(t[(channels == 3 ? k : 0) * plane + (y / zoom) * w + x / zoom], 0.0f, 1.0f);
            o[k] = static_cast<unsigned char>(v * 255.0f + 0.5f);
          }
        }
    }
  write_atomically(path, encode_png(rgb.data(), W, H, path.string()));
}

// The same for grey tiles.
inline void write_tiles_png(const std::filesystem::path& path, const float* tiles, int rows, int cols, int h, int w,
                            int zoom = 3, int gap = 2) {
  write_image_grid_png(path, tiles, rows, cols, 1, h, w, zoom, gap);
}

inline std::string gnuplot_quote(const std::string& s) {
  std::string r = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') r += '\\';
    r += ch;
  }
  return r + "\"";
}

// The lines that start a figure's script: PNG output of the given size to `out`, which is the PNG's name unless
// the caller sets it (run_gnuplot draws into the temporary of the PNG).
inline std::string gnuplot_preamble(const std::filesystem::path& png, int width, int height) {
  return "set terminal pngcairo size " + std::to_string(width) + "," + std::to_string(height) + " font 'Sans,11'\n" +
         "if (!exists(\"out\")) out = " + gnuplot_quote(png.string()) + "\nset output out\n";
}

// A title broken at spaces into lines of at most `width` characters, as one gnuplot string ("\n" between lines):
// a fixed-size chart's long title would otherwise run off its right edge.
inline std::string gnuplot_wrapped(const std::string& title, std::size_t width) {
  std::vector<std::string> lines{""};
  std::istringstream words(title);
  for (std::string word; words >> word;) {
    if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width) lines.emplace_back();
    lines.back() += (lines.back().empty() ? "" : " ") + word;
  }
  std::string out;
  for (const auto& line : lines) {
    const auto quoted = gnuplot_quote(line);
    out += (out.empty() ? "" : "\\n") + quoted.substr(1, quoted.size() - 2);
  }
  return "\"" + out + "\"";
}

// Writes the script, runs it with its output in PNG.tmp, and puts the PNG in place once gnuplot has succeeded.
inline void run_gnuplot(const std::filesystem::path& script, const std::string& text,
                        const std::filesystem::path& png) {
  write_atomically(script, text);
  const auto tmp = temporary_for(png);
  const std::string cmd = "gnuplot -e " + gnuplot_quote("out = " + gnuplot_quote(tmp.string())) + " " +
                          gnuplot_quote(script.string()) + " 2>&1";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw Error("cannot start gnuplot for " + png.string() + ".");
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int rc = ::pclose(p);
  std::error_code ec;
  if (rc != 0 || std::filesystem::file_size(tmp, ec) == 0 || ec) {
    std::filesystem::remove(tmp, ec);
    throw Error("gnuplot could not draw " + png.string() +
                (rc == 127 * 256 ? " (gnuplot is not installed: run scripts/setup.sh)" : ": " + out.substr(0, 300)) +
                ".");
  }
  if (const int fd = ::open(tmp.c_str(), O_RDONLY); fd >= 0) {  // on disk before it replaces the previous PNG
    ::fsync(fd);
    ::close(fd);
  }
  std::filesystem::rename(tmp, png, ec);
  if (ec) throw Error("cannot put " + png.string() + " in place: " + ec.message() + ".");
}

// A labelled image grid: title on top, a label per row (left) and per column (bottom); tiles as above.
// Writes <png> and <png without .png>.gp; the raw tiles go to <png without .png>_tiles.png.
inline void write_labelled_grid(const std::filesystem::path& png, const std::string& title, const float* tiles,
                                int rows, int cols, int h, int w, const std::vector<std::string>& row_labels,
                                const std::vector<std::string>& col_labels, const std::string& row_axis = "",
                                const std::string& col_axis = "", int channels = 1) {
  // Small grids are drawn larger, so that their labels and title fit.
  const int zoom = std::clamp(640 / (cols * w), 3, 8), gap = 2;
  auto stem = png;
  stem.replace_extension();
  const auto tiles_png = std::filesystem::path(stem.string() + "_tiles.png");
  write_image_grid_png(tiles_png, tiles, rows, cols, channels, h, w, zoom, gap);
  const int th = h * zoom + gap, tw = w * zoom + gap;
  const int H = rows * th + gap, W = cols * tw + gap;
  const auto script = std::filesystem::path(stem.string() + ".gp");
  std::ostringstream gp;
  const int canvas_w = std::max<int>(W + 220, int(title.size()) * 11 + 80);
  gp << gnuplot_preamble(png, canvas_w, H + 150) << "set title " << gnuplot_quote(title) << " font 'Sans,13'\n"
     << "unset key\nset border 0\nset size ratio -1\nset tics scale 0\n"
     << "set xrange [0:" << W << "]\nset yrange [0:" << H << "]\n";
  if (!row_axis.empty()) gp << "set ylabel " << gnuplot_quote(row_axis) << "\n";
  if (!col_axis.empty()) gp << "set xlabel " << gnuplot_quote(col_axis) << "\n";
  // Axes without labels get no tics at all (gnuplot would otherwise number the pixels).
  if (col_labels.empty())
    gp << "unset xtics\n";
  else {
    gp << "set xtics (";
    for (int c = 0; c < cols && c < int(col_labels.size()); ++c)
      gp << (c ? ", " : "") << gnuplot_quote(col_labels[std::size_t(c)]) << " " << gap + c * tw + tw / 2.0;
    gp << ")\n";
  }
  if (row_labels.empty())
    gp << "unset ytics\n";
  else {
    gp << "set ytics (";
    for (int r = 0; r < rows && r < int(row_labels.size()); ++r)
      gp << (r ? ", " : "") << gnuplot_quote(row_labels[std::size_t(r)]) << " " << H - (gap + r * th + th / 2.0);
    gp << ")\n";
  }
  gp << "plot " << gnuplot_quote(tiles_png.string()) << " binary filetype=png with rgbimage\n";
  run_gnuplot(script, gp.str(), png);
}

// A loss curve from a CSV written by write_loss_csv: raw values and the moving average, log y axis, and dashed
// lines at the epoch boundaries.
inline void write_loss_chart(const std::filesystem::path& png, const std::filesystem::path& csv,
                             const std::string& title, int window, const std::vector<double>& epoch_boundaries = {}) {
  auto script = png;
  script.replace_extension(".gp");
  std::ostringstream gp;
  gp << gnuplot_preamble(png, 900, 500) << "set title " << gnuplot_wrapped(title, 90) << " font 'Sans,13'\n"
     << "set datafile separator ','\nset key top right\nset grid\nset logscale y\n"
     << "set xlabel 'training step'\nset ylabel 'MSE loss (log scale)'\n";
  for (std::size_t i = 0; i < epoch_boundaries.size(); ++i)
    gp << "set arrow from " << epoch_boundaries[i] << ", graph 0 to " << epoch_boundaries[i]
       << ", graph 1 nohead dt 2 lc rgb '#999999'\n";
  gp << "plot " << gnuplot_quote(csv.string())
     << " using 1:2 every ::1 with lines lc rgb '#9ecae1' title 'loss per step', " << gnuplot_quote(csv.string())
     << " using 1:3 every ::1 with lines lw 2 lc rgb '#08519c' title 'moving average (" << window << " steps)'\n";
  run_gnuplot(script, gp.str(), png);
}

// Writes step,loss,moving_average to csv; the trailing window is 1/25 of the run (1 to 50 steps). Returns it.
inline int write_loss_csv(const std::filesystem::path& csv, const std::vector<double>& losses) {
  std::ostringstream f;
  const std::size_t window = std::clamp<std::size_t>(losses.size() / 25, 1, 50);
  f << "step,loss,moving_average_" << window << "\n";
  f.precision(9);
  double sum = 0;
  for (std::size_t i = 0; i < losses.size(); ++i) {
    sum += losses[i];
    if (i >= window) sum -= losses[i - window];
    f << i + 1 << ',' << losses[i] << ',' << sum / double(std::min(i + 1, window)) << '\n';
  }
  write_atomically(csv, f.str());
  return int(window);
}

}  // namespace unetflow
