#pragma once
// summary<In>(model): a table of what a model is made of, one row per module: its name, its output shape for
// input shape In and its parameter count, then the total. A Sequential lists its modules by index and type; a
// model lists its children by their state_dict names (with their output shapes when it states them, as
// output_shapes()).
#include <algorithm>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "blocks/sequential.hpp"
#include "param.hpp"
#include "shape_name.hpp"

namespace unetflow {

namespace detail {
template <class M>
inline constexpr bool is_sequential_v = false;
template <class... Ms>
inline constexpr bool is_sequential_v<Sequential<Ms...>> = true;

struct SummaryRow {
  std::string name, kind, shape;
  std::int64_t parameters = 0;
};

inline std::string format_summary(const std::vector<SummaryRow>& rows, const std::string& output, std::int64_t total) {
  std::size_t wn = 6, wk = 4, ws = 12;
  for (const auto& r : rows)
    wn = std::max(wn, r.name.size()), wk = std::max(wk, r.kind.size()), ws = std::max(ws, r.shape.size());
  std::ostringstream o;
  auto line = [&](const std::string& a, const std::string& b, const std::string& c, const std::string& d) {
    o << a << std::string(wn + 2 - a.size(), ' ') << b << std::string(wk + 2 - b.size(), ' ') << c
      << std::string(ws + 2 - std::min(ws + 1, c.size()), ' ') << d << '\n';
  };
  line("module", "type", "output shape", "parameters");
  for (const auto& r : rows) line(r.name, r.kind, r.shape, std::to_string(r.parameters));
  line("total", "", output, std::to_string(total));
  return o.str();
}

// Parameter counts per first name component ("c0" of "c0.0.weight"), in visiting order.
template <class M>
std::vector<std::pair<std::string, std::int64_t>> parameters_by_child(M& m) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  m.visit("", [&](const std::string& name, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) {
      const auto child = name.substr(0, name.find('.'));
      if (out.empty() || out.back().first != child) out.emplace_back(child, 0);
      out.back().second += e.size;
    }
  });
  return out;
}

template <class In, class M, std::size_t... I>
std::vector<SummaryRow> sequential_rows(M& m, std::index_sequence<I...>) {
  return {SummaryRow{std::to_string(I), type_name<typename M::template module_type<I>>(),
                     shape_name<typename M::template shape_at<In, I + 1>>(), parameter_count(m.template get<I>())}...};
}
}  // namespace detail

template <class In, class M>
std::string summary(M& m) {
  using Out = typename M::template output_shape<In>;
  std::vector<detail::SummaryRow> rows;
  if constexpr (detail::is_sequential_v<M>) {
    rows = detail::sequential_rows<In>(m, std::make_index_sequence<M::size>{});
  } else {
    std::map<std::string, std::string> shapes;
    if constexpr (requires { M::output_shapes(); })
      for (auto& [child, shape] : M::output_shapes()) shapes[child] = shape;
    for (auto& [child, count] : detail::parameters_by_child(m)) rows.push_back({child, "", shapes[child], count});
  }
  return detail::format_summary(rows, shape_name<Out>(), parameter_count(m));
}

}  // namespace unetflow
