#pragma once
// Names for diagnostics and summaries: a shape as "16x7x7" (a feature vector as "64"), a type as the compiler
// spells it, without the namespace and the default CPU backend ("Conv2d<1, 8, 3, 1, 1>").
#include <string>
#include <string_view>

#include "shape.hpp"

namespace unetflow {

template <class S>
std::string shape_name() {
  if constexpr (S::H == 1 && S::W == 1)
    return std::to_string(S::C);
  else
    return std::to_string(S::C) + "x" + std::to_string(S::H) + "x" + std::to_string(S::W);
}

namespace detail {
inline void erase_all(std::string& s, std::string_view what) {
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at)) s.erase(at, what.size());
}
}  // namespace detail

template <class T>
std::string type_name() {
  // GCC and Clang spell the template argument inside __PRETTY_FUNCTION__ as "[with T = ...]" / "[T = ...]".
  std::string_view f = __PRETTY_FUNCTION__;
  const auto eq = f.find("T = ");
  if (eq == std::string_view::npos) return "?";
  f.remove_prefix(eq + 4);
  const auto end = f.find_first_of(";]");
  std::string name(f.substr(0, end));
  detail::erase_all(name, "unetflow::");
  detail::erase_all(name, ", basic_cpu<float> ");  // GCC: "Conv2d<1, 8, 3, 1, 1, basic_cpu<float> >"
  detail::erase_all(name, ", basic_cpu<float>");   // Clang
  detail::erase_all(name, "basic_cpu<float> ");
  detail::erase_all(name, "basic_cpu<float>");
  detail::erase_all(name, ", Bias::learned");  // the default: Conv2d<1, 8, 3> has a bias
  for (auto at = name.find("> >"); at != std::string::npos; at = name.find("> >")) name.erase(at + 1, 1);
  if (name.starts_with("Reshape<AsVector")) name.replace(0, std::string_view("Reshape<AsVector").size(), "ToVector<");
  if (name == "ToVector<>") name = "ToVector";
  return name;
}

}  // namespace unetflow
