#pragma once
// Writes the site: index.html from the template, style.css, and the run figures it shows, copied under img/ so the
// folder works anywhere, opened from disk, with no network. The new site is built beside the old one and takes its
// place only when complete: a failed or interrupted build leaves the previous site whole.
#include <filesystem>

#include "sections.hpp"

namespace report {

// Renders `content` into `out` (index.html, style.css, img/); returns the number of bytes written.
std::uintmax_t write_site(const SiteContent& content, const std::filesystem::path& out);

}  // namespace report
