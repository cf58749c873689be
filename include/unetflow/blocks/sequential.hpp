#pragma once
// Sequential<M...>: modules applied in order, PyTorch's nn.Sequential. Any modules that follow the module interface
// (module.hpp) compose: layers, blocks, other Sequentials, a user's own. Forward, backward and visit are derived:
//   forward(x)                  each module's output view is the next one's input (no copy between modules)
//   backward(x, dy, dx, acc)    x is the last forward's input; dy may be overwritten; dx as in the interface
//   visit(prefix, f)            module I's entries under "I." (nn.Sequential's state_dict names), or under
//                               "name." for a module given as Named<"name", M> (named.hpp)
//   get<I>()                    module I;  input<I, In>() the input module I saw in the last forward
// Memory: the modules' own outputs, plus two gradient buffers of the largest intermediate shape that backward
// alternates between (each module writes its input gradient into the one its dy is not in).
// Shapes are checked between every two modules at compile time: a module that cannot take the previous one's
// output stops the build with one error whose instantiation line names both modules and the shape.
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../error.hpp"
#include "../module.hpp"
#include "named.hpp"

namespace unetflow {

namespace detail {

// The input of a Sequential, as the "previous module" of its first one in a mismatch report.
struct SequentialInput {};
// What a module states it takes, for the mismatch report: its input shape, its channel count, or nothing.
template <int C>
struct InChannels {};
struct AnyShape {};
template <class M>
auto expected_input() {
  if constexpr (requires { typename M::input_shape; })
    return typename M::input_shape{};
  else if constexpr (requires { M::in_channels; })
    return InChannels<M::in_channels>{};
  else
    return AnyShape{};
}

template <class S, bool Ok>
struct Reached {
  using shape = S;
  static constexpr bool ok = Ok;
};

template <std::size_t Index, class Previous, class PreviousOutput, class Next, class NextExpects>
struct SequentialMismatch {
  static_assert(always_false<Next>,
                "Sequential: module Index cannot take the output of the module before it; the instantiation line "
                "above reads <Index, previous module, its output shape, module Index, what it takes>");
  using result = Reached<PreviousOutput, false>;
};

// One link: R is what the modules before reached, Next the module that takes it. A mismatch stops the build
// when Report is set (forward, output_shape), and is only recorded otherwise (accepts).
template <bool Report, std::size_t Index, class Previous, class Next, class R,
          int Case = !R::ok ? 0
                            : (module_accepts<Next, typename R::shape>() ? 1
                               : Report                                  ? 2
                                                                         : 3)>
struct Link {  // an earlier link failed (and was reported): report nothing more
  using result = R;
};
template <bool Report, std::size_t Index, class Previous, class Next, class R>
struct Link<Report, Index, Previous, Next, R, 1> {
  using result = Reached<output_of<Next, typename R::shape>, true>;
};
template <bool Report, std::size_t Index, class Previous, class Next, class R>
struct Link<Report, Index, Previous, Next, R, 2>
    : SequentialMismatch<Index, Previous, typename R::shape, Next, decltype(expected_input<Next>())> {};
template <bool Report, std::size_t Index, class Previous, class Next, class R>
struct Link<Report, Index, Previous, Next, R, 3> {
  using result = Reached<typename R::shape, false>;
};

// What the first I modules of Ms reach from input In.
template <bool Report, std::size_t I, std::size_t Index, class Previous, class R, class... Ms>
struct Through {
  using result = R;
};
template <bool Report, std::size_t I, std::size_t Index, class Previous, class R, class M, class... Rest>
requires(I > 0) struct Through<Report, I, Index, Previous, R, M, Rest...> {
  using result = typename Through<Report, I - 1, Index + 1, M, typename Link<Report, Index, Previous, M, R>::result,
                                  Rest...>::result;
};

// in_channels and out_channels of a Sequential: its first module's and its last module's, where both state them.
template <class First, class Last, bool = requires {
  First::in_channels;
  Last::out_channels;
}
> struct ChannelsOf {};
template <class First, class Last>
struct ChannelsOf<First, Last, true> {
  static constexpr int in_channels = First::in_channels, out_channels = Last::out_channels;
};
template <class... Ms>
struct SequentialChannels {};
template <class First, class... Rest>
struct SequentialChannels<First, Rest...>
    : ChannelsOf<First, std::tuple_element_t<sizeof...(Rest), std::tuple<First, Rest...>>> {};

}  // namespace detail

template <class... Ms>
class Sequential : public detail::SequentialChannels<Ms...> {
  static_assert(sizeof...(Ms) > 0, "Sequential: give it at least one module");

 public:
  static constexpr std::size_t size = sizeof...(Ms);
  template <std::size_t I>
  using module_type = std::tuple_element_t<I, std::tuple<Ms...>>;
  using backend = typename module_type<0>::backend;
  using T = typename backend::scalar;
  static_assert((std::is_same_v<typename Ms::backend, backend> && ...),
                "Sequential: every module must compute on the same backend");

  // The input shape of module I (I == size: the Sequential's output) for input shape In.
  template <class In, std::size_t I>
  using shape_at =
      typename detail::Through<true, I, 0, detail::SequentialInput, detail::Reached<In, true>, Ms...>::result::shape;
  template <class In>
  using output_shape = shape_at<In, size>;
  template <class In>
  static constexpr bool accepts =
      detail::Through<false, size, 0, detail::SequentialInput, detail::Reached<In, true>, Ms...>::result::ok;

  std::tuple<Ms...> modules;

  template <std::size_t I>
  module_type<I>& get() {
    return std::get<I>(modules);
  }
  template <std::size_t I>
  const module_type<I>& get() const {
    return std::get<I>(modules);
  }

  template <class In, class U>
  View<output_shape<In>, T> forward(View<In, U> x) {
    static_assert(detail::same_scalar_v<U, T>, "Sequential: the input's scalar type differs from the backend's");
    if constexpr (accepts<In>) {
      n_ = x.n;
      return forward_from<In, 0>(x);
    } else {
      return {};
    }
  }

  template <class In, class U, class V>
  void backward(View<In, U> x, View<output_shape<In>, V> dy, View<In, T> dx = {}, bool accumulate = false) {
    if constexpr (accepts<In>) {
      check_backward(x.data, x.n, dy.n, dx.data, dx.n);
      if constexpr (std::is_const_v<V>) {  // the modules may overwrite dy: not the caller's
        auto g = gradient<output_shape<In>>(size % 2);
        backend::copy_rows(dy.rows(), g.rows(), n_, output_shape<In>::size);
        backward_from<In, size - 1>(g, dx, accumulate);
      } else {
        backward_from<In, size - 1>(dy, dx, accumulate);
      }
    }
  }

  // The input module I saw in the last forward (I == size: the Sequential's output).
  template <std::size_t I, class In>
  View<shape_at<In, I>, const T> input() const {
    return {inputs_[I].data, n_, inputs_[I].stride};
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    visit_each(prefix, f, std::make_index_sequence<size>{});
  }

 private:
  // Each output goes on as a writable view, so that a module may return a view of its input (Reshape).
  template <class In, std::size_t I, class U>
  View<output_shape<In>, T> forward_from(View<shape_at<In, I>, U> x) {
    inputs_[I] = {x.data, x.stride};
    View<shape_at<In, I + 1>, T> y = get<I>().forward(x);
    if constexpr (I + 1 == size) {
      inputs_[size] = {y.data, y.stride};
      return y;
    } else {
      return forward_from<In, I + 1>(y);
    }
  }

  // Module I's backward, its dx in the gradient buffer its dy is not in (the first module's: the caller's dx).
  template <class In, std::size_t I>
  void backward_from(View<shape_at<In, I + 1>, T> dy, View<In, T> dx, bool accumulate) {
    auto x = input<I, In>();
    if constexpr (I == 0) {
      get<0>().backward(x, dy, dx, accumulate);
    } else {
      auto g = gradient<shape_at<In, I>>(I % 2);
      get<I>().backward(x, dy, g, false);
      backward_from<In, I - 1>(g, dx, accumulate);
    }
  }

  template <class S>
  View<S, T> gradient(std::size_t which) {
    return reserve_view<S>(gradients_[which], n_);
  }

  void check_backward(const T* x, int xn, int dyn, const T* dx, int dxn) const {
    if (!inputs_[0].data && n_ == 0) throw Error("Sequential::backward: there is no forward to go back through.");
    if (x != inputs_[0].data || xn != n_)
      throw Error("Sequential::backward: x is not the input of the last forward (" + std::to_string(xn) +
                  " samples given, the forward had " + std::to_string(n_) + ").");
    if (dyn != n_)
      throw Error("Sequential::backward: dy holds " + std::to_string(dyn) + " samples but the last forward had " +
                  std::to_string(n_) + ".");
    if (dx && dxn != n_)
      throw Error("Sequential::backward: dx holds " + std::to_string(dxn) + " samples but the last forward had " +
                  std::to_string(n_) + ".");
  }

  template <class F, std::size_t... I>
  void visit_each(const std::string& prefix, F& f, std::index_sequence<I...>) {
    (get<I>().visit(prefix + detail::entry_prefix<module_type<I>>(I), f), ...);
  }

  std::array<Strided<const T>, size + 1> inputs_{};
  std::array<Storage<backend>, 2> gradients_;
  int n_ = 0;
};

}  // namespace unetflow
