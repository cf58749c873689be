#pragma once
// The layer protocol: what every layer in layers/ provides, so that blocks, models and the test helpers can
// drive any of them the same way. `Layer<L, In>` checks it for an input shape In.
//
//   using backend = B;                    the backend policy the layer computes with (backend/backend.hpp)
//   template <class In> using output_shape = ...;
//       the shape of one output sample for input shape In, computed at compile time; a shape the layer cannot
//       take fails to compile with a static_assert naming the layer and the mismatch.
//   void forward(View<In, const T> x, View<output_shape<In>, T> y);
//       requires: x and y hold x.n samples (y.n is not read: the batch is x.n); y does not overlap x unless the
//       layer says it may alias.
//       ensures: y = layer(x). May save what backward needs (buffers the layer owns, sized for the largest
//       batch seen; nothing is allocated once that size is reached).
//   void backward(View<In, const T> x, View<output_shape<In>, const T> dy, View<In, T> dx, bool accumulate = false);
//       requires: the forward just before was given this same x (same values and batch size); dy = dL/dy.
//       ensures: every parameter's gradient += dL/dparam (gradients accumulate until zero_grad); dx = dL/dx, or
//       dx += dL/dx with accumulate. dx may be empty (data == nullptr): then the data gradient is skipped.
//       Layers that say so accept dx aliasing dy or x (in-place backward, how the models save memory).
//   template <class F> void visit(const std::string& prefix, F&& f);
//       calls f(prefix + name, entry) for each parameter, buffer, counter and mode, with PyTorch's state_dict
//       names (layers/param.hpp lists the entry types); a layer without state visits nothing.
//
// Where a layer offers more than the protocol, the extra is a separate, named entry point:
//   BatchNorm2d  forward(x, y, act, offset) and backward_fused(x, dy, dx, act): BatchNorm then GELU in one pass,
//                normalising x + offset without forming it (ConvBnGelu folds the convolution's bias in this way).
//   Conv2d, ConvTranspose2d  forward_without_bias(x, y, epilogue): for that same fusion.
//   Modulate, Concat  take two inputs, so they follow the protocol's rules but not its signatures.
#include <concepts>
#include <string>

#include "../tensor.hpp"

namespace unetflow {

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

}  // namespace unetflow
