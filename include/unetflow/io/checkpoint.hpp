#pragma once
// Checkpoints as safetensors. A checkpoint is a set of named parts, each a visitable object under a prefix:
// the model under "" (so its tensor names are exactly PyTorch's state_dict names and a PyTorch module of the same
// structure loads them with strict=True), the optimiser under "optim.", a schedule under "sched.", and so on.
//   save_checkpoint(path, metadata, part("", model), part("optim.", adam));
//   auto metadata = load_checkpoint(path, {{"model", name}}, part("", model), part("optim.", adam));
// Loading checks every tensor of every part (present, dtype, shape), that the file holds nothing else and that
// the expected metadata match, before it changes anything: a failed load leaves every object as it was, and its
// message names the file and the tensor.
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../param.hpp"
#include "../random.hpp"
#include "safetensors.hpp"

namespace unetflow {

template <class M>
struct Part {
  std::string prefix;
  M& module;
};
template <class M>
Part<M> part(std::string prefix, M& m) {
  return {std::move(prefix), m};
}
// A part from a temporary view such as streams_of(model), for use within one call (save_checkpoint(...)).
template <class M>
Part<const M> part(std::string prefix, const M& m) {
  return {std::move(prefix), m};
}

using Metadata = std::map<std::string, std::string>;

// A module's random streams (param.hpp's Stream) as checkpoint counters NAME.seed and NAME.draws: a training
// checkpoint holds part("streams.", streams_of(model)) beside part("", model). A module without streams adds nothing.
template <class M>
struct StreamsOf {
  M& module;
  template <class F>
  void visit(const std::string& prefix, F&& f) const {
    module.visit(prefix, [&](const std::string& name, auto& e) {
      if constexpr (std::is_same_v<std::decay_t<decltype(e)>, Stream>) {
        f(name + ".seed", e.seed);
        f(name + ".draws", e.draws);
      }
    });
  }
};
template <class M>
StreamsOf<M> streams_of(M& m) {
  return {m};
}

namespace detail {

// Calls f(name, entry) for every stored entry (parameters, buffers, counters, records; neither train/eval flags nor
// random streams, which a model file does not hold: streams_of stores those).
template <class M, class F>
void for_each_stored(const Part<M>& p, F&& f) {
  p.module.visit(p.prefix, [&](const std::string& name, auto& e) {
    using E = std::decay_t<decltype(e)>;
    if constexpr (!std::is_same_v<E, Mode> && !std::is_same_v<E, Stream>) f(name, e);
  });
}

inline std::vector<std::int64_t> dims_of(const Counter&) { return {}; }
inline std::vector<std::int64_t> dims_of(const Series& s) { return {std::int64_t(s.values.size())}; }
inline std::vector<std::int64_t> dims_of(const Words& w) { return {std::int64_t(w.values.size())}; }
template <class E>
inline constexpr bool is_record_v = std::is_same_v<E, Series> || std::is_same_v<E, Words>;
template <class E>
std::vector<std::int64_t> dims_of(const E& e) {
  return e.dims;
}

template <class E>
safetensors::DType dtype_of_entry() {
  if constexpr (std::is_same_v<E, Counter> || std::is_same_v<E, Words>)
    return safetensors::DType::I64;
  else if constexpr (std::is_same_v<E, Series>)
    return safetensors::DType::F64;
  else
    return safetensors::dtype_of<typename E::T>();
}

template <class M>
void add_part(safetensors::File& file, const Part<M>& p) {
  for_each_stored(p, [&](const std::string& name, auto& e) {
    using E = std::decay_t<decltype(e)>;
    if constexpr (std::is_same_v<E, Counter>) {
      file.add(name, {}, &e.value);
    } else if constexpr (is_record_v<E>) {
      file.add(name, dims_of(e), e.values.data());
    } else {
      const auto host = e.to_host();
      file.add(name, e.dims, host.data());
    }
  });
}

template <class M>
void check_part(const safetensors::File& file, const std::string& path, const Part<M>& p, std::set<std::string>& seen) {
  for_each_stored(p, [&](const std::string& name, auto& e) {
    using E = std::decay_t<decltype(e)>;
    const auto* t = file.find(name);
    if (!t)
      throw Error("checkpoint " + path + " has no tensor '" + name +
                  "': it was written for another model or is incomplete.");
    if (t->dtype != dtype_of_entry<E>())
      throw Error("checkpoint " + path + ": tensor '" + name + "' has dtype " + safetensors::dtype_name(t->dtype) +
                  " but " + safetensors::dtype_name(dtype_of_entry<E>()) + " is expected.");
    if (is_record_v<E> ? t->shape.size() != 1 : t->shape != dims_of(e))
      throw Error("checkpoint " + path + ": tensor '" + name + "' has shape " + safetensors::shape_string(t->shape) +
                  " but the model expects " + safetensors::shape_string(dims_of(e)) + ".");
    seen.insert(name);
  });
}

// Every counter counts something (steps, epochs, batches, updates): none is negative. Needs the data.
template <class M>
void check_counters(const safetensors::File& file, const std::string& path, const Part<M>& p) {
  for_each_stored(p, [&](const std::string& name, auto& e) {
    if constexpr (std::is_same_v<std::decay_t<decltype(e)>, Counter>) {
      std::int64_t value;
      std::memcpy(&value, file.find(name)->bytes.data(), sizeof value);
      if (value < 0)
        throw Error("checkpoint " + path + ": '" + name + "' is " + std::to_string(value) +
                    ", but a count cannot be negative.");
    }
  });
}

template <class M>
void load_part(const safetensors::File& file, const Part<M>& p) {
  for_each_stored(p, [&](const std::string& name, auto& e) {
    const auto* t = file.find(name);
    using E = std::decay_t<decltype(e)>;
    if constexpr (std::is_same_v<E, Counter>) {
      std::memcpy(&e.value, t->bytes.data(), sizeof e.value);
    } else if constexpr (is_record_v<E>) {
      e.values = t->as<typename decltype(e.values)::value_type>();
    } else {
      e.from_host(reinterpret_cast<const typename std::decay_t<decltype(e)>::T*>(t->bytes.data()));
    }
  });
}

// Loads every part, refusing files whose metadata differs from `expected` or that hold tensors no part has
// (tensors under an `ignored` prefix excepted); checks everything before changing anything.
// The header is checked (metadata, every tensor's presence, dtype and shape, nothing extra) before any data is read;
// tensors under an ignored prefix are not read at all.
template <class... M>
Metadata load(const std::filesystem::path& path, const Metadata& expected, const std::vector<std::string>& ignored,
              const Part<M>&... parts) {
  const std::string p = path.string();
  auto is_ignored = [&](const std::string& name) {
    for (auto& prefix : ignored)
      if (name.rfind(prefix, 0) == 0) return true;
    return false;
  };
  const auto file = safetensors::read(path, [&](safetensors::File& header) {
    for (auto& [k, v] : expected) {
      auto it = header.metadata.find(k);
      if (it == header.metadata.end())
        throw Error("checkpoint " + p + " has no '" + k + "' in its metadata, so it cannot be checked to be a " + v +
                    ".");
      if (it->second != v)
        throw Error("checkpoint " + p + " holds " + k + " '" + it->second + "', not the expected '" + v + "'.");
    }
    std::set<std::string> seen;
    (check_part(header, p, parts, seen), ...);
    for (auto it = header.tensors.begin(); it != header.tensors.end();) {
      if (seen.count(it->first))
        ++it;
      else if (is_ignored(it->first))
        it = header.tensors.erase(it);
      else
        throw Error("checkpoint " + p + " holds tensor '" + it->first +
                    "', which this model does not have: it was written for another model.");
    }
  });
  (check_counters(file, p, parts), ...);
  (load_part(file, parts), ...);
  return file.metadata;
}

}  // namespace detail

template <class... M>
void save_checkpoint(const std::filesystem::path& path, const Metadata& metadata, const Part<M>&... parts) {
  safetensors::File file;
  file.metadata = metadata;
  (detail::add_part(file, parts), ...);
  safetensors::write(path, file);
}

// Returns the file's metadata. `expected` entries must be present with equal values.
template <class... M>
Metadata load_checkpoint(const std::filesystem::path& path, const Metadata& expected, const Part<M>&... parts) {
  return detail::load(path, expected, {}, parts...);
}

// The model alone (its parameters, buffers and counters under PyTorch's names), for load_weights.
template <class M>
void save_weights(const std::filesystem::path& path, const Metadata& metadata, M& model) {
  save_checkpoint(path, metadata, part("", model));
}

// Loads only a model's weights (under "") from a weights file or from a full training checkpoint, whose
// training state (optim., sched., progress., ema.) is then left aside.

template <class M>
Metadata load_weights(const std::filesystem::path& path, const Metadata& expected, M& model) {
  return detail::load(path, expected, {"optim.", "sched.", "progress.", "ema."}, part("", model));
}

// A random stream's state as a checkpoint record (Words), and back; a state that cannot be used is refused, naming
// `source`.
inline Words save_rng(const Rng& r) {
  const auto& s = r.state();
  std::int64_t cached;
  std::memcpy(&cached, &s.cached_normal, sizeof cached);
  return {{std::int64_t(s.s[0]), std::int64_t(s.s[1]), std::int64_t(s.s[2]), std::int64_t(s.s[3]), cached,
           s.has_cached ? 1 : 0}};
}
inline void restore_rng(Rng& r, const Words& w, const std::string& source) {
  if (w.values.size() != 6)
    throw Error(source + ": the saved random-stream state has " + std::to_string(w.values.size()) + " words, not 6.");
  Rng::State s;
  for (int i = 0; i < 4; ++i) s.s[std::size_t(i)] = std::uint64_t(w.values[std::size_t(i)]);
  std::memcpy(&s.cached_normal, &w.values[4], sizeof s.cached_normal);
  s.has_cached = w.values[5] != 0;
  r.set_state(s, source + ": the saved random-stream state cannot be used");
}

}  // namespace unetflow
