#pragma once
// The site's content: one section per deliverable of the assignment (D1-D13), in its order, each built from the
// run that makes it, with figures, captions, measured numbers and the written answers; a deliverable whose run is
// absent or unreadable is a section that says so and gives the command that makes it.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_folder.hpp"

namespace report {

struct ImageCopy {
  fs::path from;   // in the run folder
  std::string to;  // relative to the site folder
};

struct SiteContent {
  nlohmann::json view;  // what the template renders
  std::vector<ImageCopy> images;
  std::vector<std::string> warnings;  // one sentence each
};

SiteContent build_site_content(const RunFolder& runs);

}  // namespace report
