#pragma once
// The module interface: what every layer, block and single-input model provides, so that Sequential and a user's
// own compositions drive any of them the same way. `Module<M, In>` checks it for an input shape In.
//
//   using backend = B;                                  the backend policy (backend/backend.hpp)
//   template <class In> using output_shape = ...;       the shape of one output sample for input shape In
//   template <class In> static constexpr bool accepts;  optional: whether In is an input the module takes
//       (Sequential reports a mismatch between two modules with it, in one line; absent means "any shape")
//   View<output_shape<In>, T> forward(View<In, const T> x);
//       returns a view of the module's own output, valid until its next forward; saves what backward needs.
//   void backward(View<In, const T> x, View<output_shape<In>, T> dy, View<In, T> dx, bool accumulate = false);
//       x is the last forward's input, dy = dL/dy (the module may overwrite it). Every parameter's gradient
//       += its share; dx = dL/dx, or dx += dL/dx with accumulate, or nothing when dx is empty.
//   template <class F> void visit(const std::string& prefix, F&& f);   layers/param.hpp's entries and names
//
// Layers (layers/layer.hpp) also take the output buffer from the caller, forward(x, y), which is how blocks fuse
// them; OwnsOutput gives each of them the forward(x) above.
#include <concepts>
#include <string>

#include "tensor.hpp"

namespace unetflow {

namespace detail {
template <class M>
using scalar_of = typename M::backend::scalar;
template <class M, class In>
using output_of = typename M::template output_shape<In>;
struct IgnoreEntries {
  template <class E>
  void operator()(const std::string&, E&) const {}
};
template <class>
inline constexpr bool always_false = false;
}  // namespace detail

template <class M, class In>
concept Module = is_shape_v<In> && requires {
  typename M::backend;
  typename detail::output_of<M, In>;
} && requires(M& m, View<In, const detail::scalar_of<M>> x, View<detail::output_of<M, In>, detail::scalar_of<M>> dy,
              View<In, detail::scalar_of<M>> dx, bool accumulate) {
  { m.forward(x) } -> std::same_as<View<detail::output_of<M, In>, detail::scalar_of<M>>>;
  m.backward(x, dy, dx, accumulate);
  m.visit(std::string(), detail::IgnoreEntries{});
};

// M::accepts<In> where the module states it, else true.
template <class M, class In>
constexpr bool module_accepts() {
  if constexpr (requires { M::template accepts<In>; }) return M::template accepts<In>;
  else return true;
}

// forward(x) for a layer whose forward(x, y) writes into the caller's buffer: the output lives here. A layer
// deriving from it says `using OwnsOutput<L, B>::forward;` next to its own forward(x, y).
template <class Derived, class B>
class OwnsOutput {
 public:
  template <class In, class U, class D = Derived>  // (D: Derived is incomplete where this is declared)
  View<typename D::template output_shape<In>, typename B::scalar> forward(View<In, U> x) {
    auto y = reserve_view<typename D::template output_shape<In>>(output_, x.n);
    static_cast<D&>(*this).forward(x, y);
    return y;
  }

 private:
  Storage<B> output_;
};

}  // namespace unetflow
