#pragma once
// The two protocols. The module interface: what every layer, block and single-input model provides, so that Sequential
// and a user's own compositions drive any of them the same way. `Module<M, In>` checks it for an input shape In.
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
//   template <class F> void visit(const std::string& prefix, F&& f);   param.hpp's entries and names
//
// The layer protocol, what every layer in layers/ provides (blocks fuse layers through it; `Layer<L, In>` checks it):
//   using backend = B;  template <class In> using output_shape = ...;  visit(prefix, f)   as for a module
//   void forward(View<In, const T> x, View<output_shape<In>, T> y);
//       the caller gives the output buffer. requires: x and y hold x.n samples (y.n is not read); y does not overlap
//       x unless the layer says it may alias. ensures: y = layer(x); may save what backward needs (buffers the layer
//       owns, sized for the largest batch seen; nothing is allocated once that size is reached).
//   void backward(View<In, const T> x, View<output_shape<In>, const T> dy, View<In, T> dx, bool accumulate = false);
//       requires: the forward just before was given this same x; dy = dL/dy. ensures: as a module's backward. Layers
//       that say so accept dx aliasing dy or x (in-place backward, how the models save memory).
//   A shape a layer cannot take fails to compile with a static_assert naming the layer and the mismatch.
// OwnsOutput gives a layer the module's forward(x) too. Where a layer offers more than the protocol, the extra is a
// separate, named entry point:
//   BatchNorm2d  forward(x, y, act, offset) and backward_fused(x, dy, dx, act): BatchNorm then an activation in one pass,
//                normalising x + offset without forming it (ConvBnAct folds the convolution's bias in this way).
//   Conv2d, ConvTranspose2d  forward_without_bias(x, y, epilogue): for that same fusion.
//   Modulate, Concat  take two inputs, so they follow the protocol's rules but not its signatures.
#include <concepts>
#include <string>
#include <type_traits>

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
// A view's scalar against the backend's (layers static_assert it, naming themselves).
template <class U, class T>
inline constexpr bool same_scalar_v = std::is_same_v<std::remove_const_t<U>, T>;
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

template <class L, class In>
concept Layer = requires(L& layer, View<In, const typename L::backend::scalar> x,
                         View<typename L::template output_shape<In>, typename L::backend::scalar> y,
                         View<typename L::template output_shape<In>, const typename L::backend::scalar> dy,
                         View<In, typename L::backend::scalar> dx) {
  layer.forward(x, y);
  layer.backward(x, dy, dx);
  layer.backward(x, dy, dx, true);
  layer.visit(std::string(), [](const std::string&, auto&) {});
};

// M::accepts<In> where the module states it, else true.
template <class M, class In>
constexpr bool module_accepts() {
  if constexpr (requires { M::template accepts<In>; })
    return M::template accepts<In>;
  else
    return true;
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
