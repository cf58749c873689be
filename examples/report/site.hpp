#pragma once
// Writes the site: index.html from the template, style.css, and the run figures it shows, copied under img/ so the
// folder works anywhere, opened from disk, with no network. The new site is built beside the old one and takes its
// place only when complete: a failed or interrupted build leaves the previous site whole.
#include <filesystem>

#include "sections.hpp"

namespace report {

// The file that marks a folder as a site report built, written first into every site: report replaces or removes a
// folder only when it carries it (or is empty). A program removes only what it wrote itself.
inline constexpr const char* site_marker = ".unetflow-site";

// Whether `dir` is a site report built: it holds the marker (or is a site of the versions before the marker).
bool is_site_folder(const std::filesystem::path& dir);

// Throws, in one sentence naming --out, unless `out` may receive the site: a new or empty folder, or a site report
// built; never the runs folder, a folder that holds it, or a folder inside one of its runs.
void check_site_folder(const std::filesystem::path& out, const std::filesystem::path& runs);

// Renders `content` into `out` (index.html, style.css, img/ and the marker); returns the number of bytes written.
// The caller has checked `out` (check_site_folder) and holds the lock beside it (report.cpp).
std::uintmax_t write_site(const SiteContent& content, const std::filesystem::path& out);

}  // namespace report
