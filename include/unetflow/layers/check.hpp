#pragma once
// Compile-time checks shared by the layers: scalar types of views and exact shape matches.
#include <type_traits>

#include "../tensor.hpp"

namespace unetflow::detail {

template <class U, class T>
inline constexpr bool same_scalar_v = std::is_same_v<std::remove_const_t<U>, T>;

}  // namespace unetflow::detail
