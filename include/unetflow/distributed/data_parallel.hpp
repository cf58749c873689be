#pragma once
// What a data-parallel training step adds to a one-process step (train/trainer.hpp uses it):
//   - rows_of(global_n, comm): the rows [offset, offset + n) of a global batch this process computes; the split
//     is even to within one row (the trainer refuses batches that would leave a process without a row);
//   - GradientAverager: the model's parameter gradients laid out once in one flat buffer of the backend's memory,
//     so that a step makes one all-reduce (Horovod's fusion buffer): each process's gradient, the mean over its
//     rows, is weighted by its share of the global batch, so the sum is the gradient of the mean over the whole
//     batch, as one process computes it. Two more values travel with it: the weighted loss (the global batch's
//     mean loss) and a stop request (Ctrl-C or SIGTERM on any process stops all of them after the same step).
//     broadcast_state() gives every process rank 0's parameters and buffers.
// Batch normalisation is per process (as PyTorch's DistributedDataParallel by default): each process normalises
// its rows with their own statistics, so a BatchNorm model trained on N processes is not the one-process model;
// models without BatchNorm (GroupNorm, plain convolutions and linear layers) train to the same weights within
// rounding.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

#include "../param.hpp"
#include "../tensor.hpp"
#include "comm.hpp"

namespace unetflow {

struct BatchRows {
  int offset = 0, n = 0, total = 0;
  Shard shard() const { return {offset, total}; }
};
template <class Comm>
BatchRows rows_of(int global_n, const Comm& comm) {
  const long r = comm.rank(), size = comm.size();
  const int begin = int(global_n * r / size), end = int(global_n * (r + 1) / size);
  return {begin, end - begin, global_n};
}

template <class B, class Comm>
class GradientAverager {
 public:
  using T = typename B::scalar;

  template <class Model>
  GradientAverager(Model& model, Comm& comm) : comm_(comm) {
    model.visit("", [&](const std::string&, auto& e) {
      using E = std::decay_t<decltype(e)>;
      if constexpr (is_instance_v<E, Param>) {
        params_.push_back(&e);
        gradient_size_ += e.size;
      }
      if constexpr (is_instance_v<E, Param> || is_instance_v<E, Buffer>) {
        state_.push_back(static_cast<Buffer<B>*>(&e));
        state_size_ += e.size;
      }
    });
    flat_.reserve(std::max(gradient_size_ + extras, state_size_));
  }

  struct Result {
    double loss;  // the global batch's mean loss
    bool stop;    // some process asked to stop
  };
  // Replaces every gradient by the global batch's (weight: this process's rows / the global batch's rows).
  Result average(double weight, double loss, bool stop) {
    std::ptrdiff_t at = 0;
    for (auto* p : params_) {
      B::copy(p->grad.data(), flat_.data() + at, p->size);
      at += p->size;
    }
    B::blend(flat_.data(), flat_.data(), gradient_size_, T(weight), T(0));
    const T tail[extras] = {T(weight * loss), T(stop ? 1 : 0)};
    B::from_host(tail, flat_.data() + gradient_size_, extras);
    const auto t0 = std::chrono::steady_clock::now();
    comm_.all_reduce_sum(flat_.data(), gradient_size_ + extras);
    reduce_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    at = 0;
    for (auto* p : params_) {
      B::copy(flat_.data() + at, p->grad.data(), p->size);
      at += p->size;
    }
    T sums[extras];
    B::to_host(flat_.data() + gradient_size_, sums, extras);
    return {double(sums[0]), sums[1] > T(0)};
  }

  // Rank 0's parameters and buffers (running statistics) on every process.
  void broadcast_state() {
    std::ptrdiff_t at = 0;
    for (auto* b : state_) {
      B::copy(b->data(), flat_.data() + at, b->size);
      at += b->size;
    }
    comm_.broadcast(flat_.data(), state_size_);
    at = 0;
    for (auto* b : state_) {
      B::copy(flat_.data() + at, b->data(), b->size);
      at += b->size;
    }
  }

  double reduce_seconds() const { return reduce_seconds_; }

 private:
  static constexpr int extras = 2;
  Comm& comm_;
  std::vector<Param<B>*> params_;
  std::vector<Buffer<B>*> state_;
  std::ptrdiff_t gradient_size_ = 0, state_size_ = 0;
  Storage<B> flat_;
  double reduce_seconds_ = 0;
};

}  // namespace unetflow
