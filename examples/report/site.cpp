#include "site.hpp"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <kainjow/mustache.hpp>
#include <string>
#include <system_error>
#include <unetflow/error.hpp>
#include <unetflow/io/atomic_file.hpp>

#include "site_template.hpp"  // generated from site.mustache and site.css (examples/CMakeLists.txt)

namespace report {

namespace {

namespace mustache = kainjow::mustache;

// The template library's own data tree, from the JSON view.
mustache::data to_data(const nlohmann::json& j) {
  if (j.is_object()) {
    mustache::data d{mustache::data::type::object};
    for (const auto& [key, value] : j.items()) d.set(key, to_data(value));
    return d;
  }
  if (j.is_array()) {
    mustache::data d{mustache::data::type::list};
    for (const auto& value : j) d.push_back(to_data(value));
    return d;
  }
  if (j.is_boolean()) return mustache::data{j.get<bool>()};
  if (j.is_string()) return mustache::data{j.get<std::string>()};
  if (j.is_null()) return mustache::data{false};
  return mustache::data{j.dump()};
}

std::string render(const SiteContent& content) {
  mustache::mustache page{std::string(site_template::page)};
  if (!page.is_valid()) throw unetflow::Error("the site template does not parse: " + page.error_message());
  const std::string html = page.render(to_data(content.view));
  if (!page.is_valid()) throw unetflow::Error("the site template does not render: " + page.error_message());
  return html;
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) throw unetflow::Error("cannot read " + path.string() + ".");
  return bytes;
}

// Removes a folder only when it is a site this program built (or an empty folder): never anything else.
void remove_site(const std::filesystem::path& dir) {
  std::error_code ec;
  if (is_site_folder(dir))
    std::filesystem::remove_all(dir, ec);
  else
    std::filesystem::remove(dir, ec);  // fails, leaving it, unless it is empty
}

// The folders an earlier, interrupted build left beside `out` (<out>.partial-<pid>, <out>.previous-<pid>), when they
// are sites of this program's (the marker is its first file) or empty.
void remove_leftovers(const std::filesystem::path& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  const std::string stem = out.filename().string();
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const auto name = entry.path().filename().string();
    if (name.rfind(stem + ".partial-", 0) == 0 || name.rfind(stem + ".previous-", 0) == 0) remove_site(entry.path());
  }
}

std::filesystem::path resolved(const std::filesystem::path& p) {
  std::error_code ec;
  auto r = std::filesystem::weakly_canonical(std::filesystem::absolute(p), ec);
  if (ec) r = std::filesystem::absolute(p).lexically_normal();
  return r.has_filename() ? r : r.parent_path();
}

// Whether `inner` is `outer` or lies inside it (both resolved).
bool within(const std::filesystem::path& inner, const std::filesystem::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i)
    if (i == inner.end() || *i != *o) return false;
  return true;
}

}  // namespace

bool is_site_folder(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  if (fs::is_regular_file(dir / site_marker, ec)) return true;
  // A site of the versions before the marker: index.html, style.css and img/ only, the page saying who built it.
  bool has_index = false;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (name == "index.html")
      has_index = true;
    else if (name != "style.css" && name != "img")
      return false;
  }
  return has_index &&
         read_all(dir / "index.html").find("built by unetflow's\n<code>report</code>") != std::string::npos;
}

void check_site_folder(const std::filesystem::path& out, const std::filesystem::path& runs) {
  namespace fs = std::filesystem;
  const auto site = resolved(out), runs_folder = resolved(runs);
  const std::string flag = "--out " + out.string();
  if (within(runs_folder, site))
    throw unetflow::Error(flag + " is or holds the runs folder (--runs " + runs.string() +
                          "): the site must not replace the runs it shows.");
  if (within(site, runs_folder) && site.parent_path() != runs_folder)
    throw unetflow::Error(flag + " lies inside a run of --runs " + runs.string() +
                          ": put the site in a folder of its own (the default is RUNS/site).");
  std::error_code ec;
  if (fs::exists(site, ec) && !fs::is_directory(site, ec))
    throw unetflow::Error(flag + " is a file, not a folder: name a new folder, or a site that report built.");
  if (fs::is_directory(site, ec) && !fs::is_empty(site, ec) && !is_site_folder(site))
    throw unetflow::Error(flag + " already holds files that report did not write (it has no " +
                          std::string(site_marker) +
                          "): name a new or empty folder, or a site that report built, which it replaces.");
}

std::uintmax_t write_site(const SiteContent& content, const std::filesystem::path& out) {
  namespace fs = std::filesystem;
  const std::string html = render(content);
  std::error_code ec;
  fs::create_directories(out.parent_path().empty() ? fs::path(".") : out.parent_path(), ec);
  if (ec) throw unetflow::Error("cannot create " + out.parent_path().string() + " (" + ec.message() + ").");
  remove_leftovers(out);
  const auto pid = std::to_string(::getpid());
  const fs::path partial = out.string() + ".partial-" + pid;
  fs::create_directories(partial, ec);
  if (ec) throw unetflow::Error("cannot create " + partial.string() + " (" + ec.message() + ").");
  std::uintmax_t bytes = 0;
  try {
    unetflow::write_atomically(
        partial / site_marker,
        std::string("A website built by unetflow's report; report replaces this folder whole.\n"));
    for (const auto& image : content.images) {
      const auto to = partial / image.to;
      fs::create_directories(to.parent_path());
      const auto data = read_all(image.from);
      unetflow::write_atomically(to, data);
      bytes += data.size();
    }
    unetflow::write_atomically(partial / "style.css", std::string(site_template::style));
    unetflow::write_atomically(partial / "index.html", html);
    bytes += html.size() + site_template::style.size();
    // Swap: the old site (or empty folder: check_site_folder refused anything else) steps aside, the new one takes
    // its name (or the old one comes back), then the old one goes.
    const fs::path previous = out.string() + ".previous-" + pid;
    const bool had_site = fs::exists(out);
    if (had_site && !fs::is_empty(out) && !is_site_folder(out))
      throw unetflow::Error("--out " + out.string() +
                            " gained files that report did not write while the site was built; it is left as it is.");
    if (had_site) fs::rename(out, previous);
    fs::rename(partial, out, ec);
    if (ec) {
      if (had_site) fs::rename(previous, out);
      throw fs::filesystem_error("cannot rename", partial, out, ec);
    }
    if (had_site) remove_site(previous);
  } catch (const fs::filesystem_error& e) {
    remove_site(partial);
    throw unetflow::Error("cannot write the site to " + out.string() + ": " + e.code().message() + " (" +
                          e.path1().string() + ").");
  } catch (...) {
    remove_site(partial);
    throw;
  }
  return bytes;
}

}  // namespace report
