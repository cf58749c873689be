#pragma once
// Trainable parameters, non-trainable buffers, and the visitor protocol every layer, block and model follows:
//   template <class F> void visit(const std::string& prefix, F&& f)
// calls f(name, entry) for each entry, with PyTorch's dotted names ("d1.0.0.weight"), where entry is one of
// Param<B>& (trainable), Buffer<B>& (running statistics), Counter& (int64 counters), Mode& (train/eval),
// and, for training state, Series& (float64 records) and Words& (int64 records) of any length.
#include <atomic>
#include <cstdint>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "random.hpp"
#include "tensor.hpp"

namespace unetflow {

template <class B>
struct Buffer {
  using T = typename B::scalar;
  std::vector<std::int64_t> dims;
  std::ptrdiff_t size = 0;
  Storage<B> value;

  explicit Buffer(std::vector<std::int64_t> d, T init = T(0))
      : dims(std::move(d)),
        size(std::accumulate(dims.begin(), dims.end(), std::int64_t(1), std::multiplies<>())),
        value(size) {
    B::fill(value.data(), size, init);
  }
  T* data() const { return value.data(); }
  std::vector<T> to_host() const {
    std::vector<T> h(size);
    B::to_host(data(), h.data(), size);
    return h;
  }
  void from_host(const T* h) { B::from_host(h, data(), size); }
};

// A parameter initialised from a normal distribution of this standard deviation.
struct Normal {
  double std = 1.0;
};

template <class B>
struct Param : Buffer<B> {
  using T = typename B::scalar;
  Storage<B> grad;
  // Default initialisation: uniform(-bound, bound) when bound > 0 (PyTorch's kaiming-uniform with a = sqrt(5)
  // and its bias rule both reduce to bound = 1/sqrt(fan_in)), else the constant `constant`.
  double bound = 0;
  T constant = T(0);

  double normal_std = 0;  // > 0: initialised N(0, normal_std^2) instead (nn.Embedding's rule)

  Param(std::vector<std::int64_t> d, double init_bound, T init_constant = T(0))
      : Buffer<B>(std::move(d), init_constant), grad(this->size), bound(init_bound), constant(init_constant) {
    zero_grad();
  }
  Param(std::vector<std::int64_t> d, Normal init) : Param(std::move(d), 0.0) { normal_std = init.std; }
  void zero_grad() { B::fill(grad.data(), this->size, T(0)); }
  void reset(Rng& rng) {
    if (normal_std > 0) {
      std::vector<T> host(this->size);
      rng.fill_normal(host.data(), this->size, 0.0, normal_std);
      B::from_host(host.data(), this->data(), this->size);
      return;
    }
    if (bound <= 0) {
      B::fill(this->data(), this->size, constant);
      return;
    }
    std::vector<T> host(this->size);
    rng.fill_uniform(host.data(), this->size, -bound, bound);
    B::from_host(host.data(), this->data(), this->size);
  }
};

struct Counter {
  std::int64_t value = 0;
};
// Variable-length records (loss logs, random-stream states) that checkpoints carry whatever their length.
struct Series {
  std::vector<double> values;
};
struct Words {
  std::vector<std::int64_t> values;
};
// A counter-based random stream a module draws from (dropout's masks): its seed and how many draws it has made.
// Not part of PyTorch's state_dict, so model files leave it out; training checkpoints keep it (streams_of in
// io/checkpoint.hpp), so a resumed run draws the same masks. seed_streams(m, seed) seeds every stream of m by name.
struct Stream {
  Counter seed, draws;
  Stream();
};
inline std::uint64_t stream_hash(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
// Until seed_streams: distinct seeds in construction order (deterministic for a program, different per layer).
inline Stream::Stream() {
  static std::atomic<std::uint64_t> constructed{0};
  seed.value = std::int64_t(stream_hash(++constructed) >> 1);
}
struct Mode {
  bool training = true;
};

template <class E, template <class> class Tmpl>
inline constexpr bool is_instance_v = false;
template <template <class> class Tmpl, class B>
inline constexpr bool is_instance_v<Tmpl<B>, Tmpl> = true;

// Helpers over any visitable module.
template <class M>
void set_training(M& m, bool training) {
  m.visit("", [&](const std::string&, auto& e) {
    if constexpr (std::is_same_v<std::decay_t<decltype(e)>, Mode>) e.training = training;
  });
}
// Seeds every Stream of m from `seed` and its name (63 bits: a checkpoint counter is never negative); draws restart.
template <class M>
void seed_streams(M& m, std::uint64_t seed) {
  m.visit("", [&](const std::string& name, auto& e) {
    if constexpr (std::is_same_v<std::decay_t<decltype(e)>, Stream>) {
      std::uint64_t h = stream_hash(seed);
      for (unsigned char ch : name) h = stream_hash(h ^ ch);
      e.seed.value = std::int64_t(h >> 1);
      e.draws.value = 0;
    }
  });
}

// Evaluation (or training) mode for a scope: every Mode of m is set, and each is given back the value it had when
// the scope ends (also by an exception).   { auto guard = eval_mode(model); ... sample ... }
template <class M>
class ModeScope {
 public:
  ModeScope(M& m, bool training) : m_(m) {
    m_.visit("", [&](const std::string&, auto& e) {
      if constexpr (std::is_same_v<std::decay_t<decltype(e)>, Mode>) {
        saved_.push_back(e.training);
        e.training = training;
      }
    });
  }
  ModeScope(const ModeScope&) = delete;
  ModeScope& operator=(const ModeScope&) = delete;
  ~ModeScope() {
    std::size_t i = 0;
    m_.visit("", [&](const std::string&, auto& e) {
      if constexpr (std::is_same_v<std::decay_t<decltype(e)>, Mode>)
        if (i < saved_.size()) e.training = saved_[i++];
    });
  }

 private:
  M& m_;
  std::vector<bool> saved_;
};
template <class M>
[[nodiscard]] ModeScope<M> eval_mode(M& m) {
  return ModeScope<M>(m, false);
}
template <class M>
[[nodiscard]] ModeScope<M> train_mode(M& m) {
  return ModeScope<M>(m, true);
}

template <class M>
void zero_grad(M& m) {
  m.visit("", [&](const std::string&, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) e.zero_grad();
  });
}
template <class M>
void reset_parameters(M& m, Rng& rng) {
  m.visit("", [&](const std::string&, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) e.reset(rng);
  });
}
template <class M>
std::int64_t parameter_count(M& m) {
  std::int64_t total = 0;
  m.visit("", [&](const std::string&, auto& e) {
    if constexpr (is_instance_v<std::decay_t<decltype(e)>, Param>) total += e.size;
  });
  return total;
}

}  // namespace unetflow
