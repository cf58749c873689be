#pragma once
// The backend contract: what a policy type (cpu, cpu_f64, cuda) must provide for the layers to run on it.
// A policy is a type with static members only; every layer, block, model, optimiser and sampler is written once
// against this contract and takes the policy as a template argument.
//
// Conventions that hold for every primitive below:
//   - T is B::scalar. Pointers and Strided rows point into the backend's memory (from B::allocate), except where a
//     primitive says "host".
//   - A Strided<T> r holds n rows; row s starts at r[s] = r.data + s * r.stride, and a row of len values (or of
//     C planes of plane values, channel-major) lies inside it. A stride larger than the row is a channel slice of a
//     wider map (a concatenation): a primitive touches only the len values of each row.
//   - "(+)=" means "=", or "+=" when the primitive's accumulate argument is true.
//   - Primitives are ordered on the backend's stream: a later call sees the results of an earlier one. Only
//     to_host, read and synchronize wait for the device.
//   - Results are deterministic: the same inputs give bit-identical outputs on the same machine and thread count.
//
// Each primitive is a concept with its comment, in contract_core.hpp (identity, memory, GEMM, convolution, batch
// normalisation) and contract_layers.hpp (element-wise maps, pooling, masks, losses, optimiser updates).
// static_assert(Backend<P>) states conformance; check_backend<P>() does the same primitive by primitive, so a
// policy that lacks one fails with a single message naming it (the layers call it).
#include <concepts>
#include <cstddef>
#include <cstdint>

#include "../tensor.hpp"
#include "common.hpp"
#include "contract_core.hpp"
#include "contract_layers.hpp"

namespace unetflow {

template <class B>
concept Backend = contract::has_scalar<B> && contract::has_name<B> && contract::has_host_accessible<B> &&
    contract::has_threads<B> && contract::has_conv_epilogues<B> && contract::has_allocate<B> && contract::has_fill<B> &&
    contract::has_copy<B> && contract::has_to_host<B> && contract::has_from_host<B> && contract::has_read<B> &&
    contract::has_synchronize<B> && contract::has_scratch<B> && contract::has_activation_scratch<B> &&
    contract::has_graph<B> && contract::has_gemm<B> && contract::has_conv_forward<B> &&
    contract::has_conv_backward_data<B> && contract::has_conv_backward_weight<B> && contract::has_add_channel_bias<B> &&
    contract::has_channel_sums<B> && contract::has_bn_stats<B> && contract::has_bn_prepare<B> &&
    contract::has_bn_apply<B> && contract::has_bn_apply_sample<B> && contract::has_bn_backward<B> &&
    contract::has_activation_forward<B> && contract::has_activation_backward<B> && contract::has_copy_rows<B> &&
    contract::has_add_rows<B> && contract::has_blend<B> && contract::has_avgpool_forward<B> &&
    contract::has_avgpool_backward<B> && contract::has_modulate_forward<B> && contract::has_modulate_backward<B> &&
    contract::has_softmax_rows<B> && contract::has_softmax_backward_rows<B> && contract::has_mse<B> &&
    contract::has_interpolate<B> && contract::has_adam_update<B> && contract::has_maxpool_forward<B> &&
    contract::has_maxpool_backward<B> && contract::has_upsample_forward<B> && contract::has_upsample_backward<B> &&
    contract::has_channel_mean<B> && contract::has_channel_broadcast<B> && contract::has_dropout_mask<B> &&
    contract::has_embedding_forward<B> && contract::has_embedding_backward<B> && contract::has_elementwise_loss<B> &&
    contract::has_sgd_update<B> && contract::has_rmsprop_update<B> && contract::has_adadelta_update<B> &&
    contract::has_sum_squares<B> && contract::has_log_softmax_rows<B> && contract::has_log_softmax_backward_rows<B>;

// Backend<B> one primitive at a time, so that a policy breaking the contract fails with one message naming what
// it lacks (layers call it). Without B::scalar nothing else can be checked, so the rest waits for it.
template <class B>
consteval bool check_backend() {
  static_assert(contract::has_scalar<B>, "Backend: the policy lacks the type scalar");
  if constexpr (contract::has_scalar<B>) {
    static_assert(contract::has_name<B>, "Backend: the policy lacks name");
    static_assert(contract::has_host_accessible<B>, "Backend: the policy lacks host_accessible");
    static_assert(contract::has_threads<B>, "Backend: the policy lacks threads()");
    static_assert(contract::has_conv_epilogues<B>, "Backend: the policy lacks conv_epilogues");
    static_assert(contract::has_allocate<B>, "Backend: the policy lacks allocate<T>(n) / deallocate<T>(p)");
    static_assert(contract::has_fill<B>, "Backend: the policy lacks fill");
    static_assert(contract::has_copy<B>, "Backend: the policy lacks copy");
    static_assert(contract::has_to_host<B>, "Backend: the policy lacks to_host");
    static_assert(contract::has_from_host<B>, "Backend: the policy lacks from_host");
    static_assert(contract::has_read<B>, "Backend: the policy lacks read");
    static_assert(contract::has_synchronize<B>, "Backend: the policy lacks synchronize");
    static_assert(contract::has_scratch<B>, "Backend: the policy lacks scratch(Use, slot, n)");
    static_assert(contract::has_activation_scratch<B>, "Backend: the policy lacks activation_scratch");
    static_assert(contract::has_graph<B>, "Backend: the policy lacks Graph with run(key, f)");
    static_assert(contract::has_gemm<B>, "Backend: the policy lacks gemm");
    static_assert(contract::has_conv_forward<B>,
                  "Backend: the policy lacks conv_forward (with and without an epilogue)");
    static_assert(contract::has_conv_backward_data<B>,
                  "Backend: the policy lacks conv_backward_data (with and without an epilogue)");
    static_assert(contract::has_conv_backward_weight<B>, "Backend: the policy lacks conv_backward_weight");
    static_assert(contract::has_add_channel_bias<B>, "Backend: the policy lacks add_channel_bias");
    static_assert(contract::has_channel_sums<B>, "Backend: the policy lacks channel_sums");
    static_assert(contract::has_bn_stats<B>, "Backend: the policy lacks bn_stats");
    static_assert(contract::has_bn_prepare<B>, "Backend: the policy lacks bn_prepare");
    static_assert(contract::has_bn_apply<B>, "Backend: the policy lacks bn_apply");
    static_assert(contract::has_bn_apply_sample<B>, "Backend: the policy has conv_epilogues but lacks bn_apply_sample");
    static_assert(contract::has_bn_backward<B>, "Backend: the policy lacks bn_backward");
    static_assert(contract::has_activation_forward<B>, "Backend: the policy lacks activation_forward");
    static_assert(contract::has_activation_backward<B>, "Backend: the policy lacks activation_backward");
    static_assert(contract::has_copy_rows<B>, "Backend: the policy lacks copy_rows");
    static_assert(contract::has_add_rows<B>, "Backend: the policy lacks add_rows");
    static_assert(contract::has_blend<B>, "Backend: the policy lacks blend");
    static_assert(contract::has_avgpool_forward<B>, "Backend: the policy lacks avgpool_forward");
    static_assert(contract::has_avgpool_backward<B>, "Backend: the policy lacks avgpool_backward");
    static_assert(contract::has_modulate_forward<B>, "Backend: the policy lacks modulate_forward");
    static_assert(contract::has_modulate_backward<B>, "Backend: the policy lacks modulate_backward");
    static_assert(contract::has_softmax_rows<B>, "Backend: the policy lacks softmax_rows");
    static_assert(contract::has_softmax_backward_rows<B>, "Backend: the policy lacks softmax_backward_rows");
    static_assert(contract::has_mse<B>, "Backend: the policy lacks mse");
    static_assert(contract::has_interpolate<B>, "Backend: the policy lacks interpolate");
    static_assert(contract::has_adam_update<B>, "Backend: the policy lacks adam_update");
    static_assert(contract::has_maxpool_forward<B>, "Backend: the policy lacks maxpool_forward");
    static_assert(contract::has_maxpool_backward<B>, "Backend: the policy lacks maxpool_backward");
    static_assert(contract::has_upsample_forward<B>, "Backend: the policy lacks upsample_forward");
    static_assert(contract::has_upsample_backward<B>, "Backend: the policy lacks upsample_backward");
    static_assert(contract::has_channel_mean<B>, "Backend: the policy lacks channel_mean");
    static_assert(contract::has_channel_broadcast<B>, "Backend: the policy lacks channel_broadcast");
    static_assert(contract::has_dropout_mask<B>, "Backend: the policy lacks dropout_mask");
    static_assert(contract::has_embedding_forward<B>, "Backend: the policy lacks embedding_forward");
    static_assert(contract::has_embedding_backward<B>, "Backend: the policy lacks embedding_backward");
    static_assert(contract::has_elementwise_loss<B>, "Backend: the policy lacks elementwise_loss");
    static_assert(contract::has_sgd_update<B>, "Backend: the policy lacks sgd_update");
    static_assert(contract::has_rmsprop_update<B>, "Backend: the policy lacks rmsprop_update");
    static_assert(contract::has_adadelta_update<B>, "Backend: the policy lacks adadelta_update");
    static_assert(contract::has_sum_squares<B>, "Backend: the policy lacks sum_squares");
    static_assert(contract::has_log_softmax_rows<B>, "Backend: the policy lacks log_softmax_rows");
    static_assert(contract::has_log_softmax_backward_rows<B>, "Backend: the policy lacks log_softmax_backward_rows");
  }
  return true;
}

}  // namespace unetflow
