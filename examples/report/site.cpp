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

// The folders an earlier, interrupted build left beside `out` (<out>.partial-<pid>, <out>.previous-<pid>).
void remove_leftovers(const std::filesystem::path& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  const std::string stem = out.filename().string();
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const auto name = entry.path().filename().string();
    if (name.rfind(stem + ".partial-", 0) == 0 || name.rfind(stem + ".previous-", 0) == 0) fs::remove_all(entry.path(), ec);
  }
}

}  // namespace

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
    // Swap: the old site steps aside, the new one takes its name (or the old one comes back), then the old one goes.
    const fs::path previous = out.string() + ".previous-" + pid;
    const bool had_site = fs::exists(out);
    if (had_site) fs::rename(out, previous);
    fs::rename(partial, out, ec);
    if (ec) {
      if (had_site) fs::rename(previous, out);
      throw fs::filesystem_error("cannot rename", partial, out, ec);
    }
    if (had_site) fs::remove_all(previous, ec);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(partial, ec);
    throw unetflow::Error("cannot write the site to " + out.string() + ": " + e.code().message() + " (" + e.path1().string() + ").");
  } catch (...) {
    fs::remove_all(partial, ec);
    throw;
  }
  return bytes;
}

}  // namespace report
