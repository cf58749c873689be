#pragma once
// Named<"conv1", M>: module M listed under "conv1." by the Sequential that holds it, instead of under its index, as
// nn.Sequential(OrderedDict(...)) names its modules. A Sequential of named modules carries the state_dict names of a
// PyTorch module written with attributes (self.conv1 = ...), so its checkpoints load into that module strictly.
// Everything else is M's: Named<N, M> is an M.
#include <algorithm>
#include <cstddef>
#include <string>

namespace unetflow {

// A name given as a template argument (a string literal).
template <std::size_t N>
struct ModuleName {
  char text[N]{};
  constexpr ModuleName(const char (&s)[N]) { std::copy_n(s, N, text); }  // NOLINT: implicit from the literal
};

template <ModuleName Name, class M>
struct Named : M {
  static_assert(sizeof(Name.text) > 1, "Named: give the module a name");
  using M::M;
  static constexpr const char* module_name = Name.text;
};

namespace detail {
// The prefix of module `index` of a Sequential: its name when it has one, else the index.
template <class M>
std::string entry_prefix(std::size_t index) {
  if constexpr (requires { M::module_name; })
    return std::string(M::module_name) + ".";
  else
    return std::to_string(index) + ".";
}
}  // namespace detail

}  // namespace unetflow
