// The deliverables website (D14): every result of Parts 1-3 on one page, built from runs/*/summary.json.
//   report                          runs/ -> runs/site/index.html
//   report --runs DIR --out SITE    another runs folder, another site folder
// A deliverable whose run is absent or unreadable is shown as missing with the command that makes it; each
// unreadable summary is one warning line. The site is static and self-contained: open index.html from disk.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <unetflow/error.hpp>
#include <unetflow/io/folder_lock.hpp>

#include "report/run_folder.hpp"
#include "report/sections.hpp"
#include "report/site.hpp"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  CLI::App app{"Build the deliverables website from the runs' summaries"};
  std::string runs = "runs", out;
  bool quiet = false;
  app.add_option("--runs", runs, "the folder of runs (one subfolder per run, each with its summary.json)")
      ->capture_default_str();
  app.add_option("--out", out, "the site's folder (default: RUNS/site)");
  app.add_flag("--quiet", quiet, "print only warnings and errors");
  CLI11_PARSE(app, argc, argv);
  try {
    if (!fs::is_directory(runs))
      throw unetflow::Error("--runs " + runs +
                            ": no such folder (run scripts/deliverables.sh first, or name the folder of your runs).");
    fs::path site = out.empty() ? fs::path(runs) / "site" : fs::path(out);
    if (!site.has_filename()) site = site.parent_path();  // "site/" names the folder "site"
    report::check_site_folder(site, runs);
    // One report at a time builds a given site: the lock sits beside the site, which is replaced whole.
    const auto lock = unetflow::lock_folder(site.parent_path().empty() ? fs::path(".") : site.parent_path(),
                                            ".report-lock-" + site.filename().string());
    const report::RunFolder folder(runs, site);
    const auto content = report::build_site_content(folder);
    const auto bytes = report::write_site(content, site);
    for (const auto& w : content.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (!quiet) {
      const int missing = content.view["missing_count"].get<int>();
      std::printf("site: %s (%zu figures, %.1f MB; %d of %zu deliverables missing)\n", (site / "index.html").c_str(),
                  content.images.size(), double(bytes) / 1e6, missing, content.view["toc"].size());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
