// Checkpoints: exact round trip of model + optimiser + schedule; refusal of files of another model, truncated
// files and wrong dtypes or shapes, with a message naming the file and the tensor and the model left untouched;
// an interrupted write never damages the previous checkpoint. Also writes the interop files that
// tests/python/interop_test.py loads into PyTorch (when UNETFLOW_INTEROP_DIR is set).
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unetflow/unetflow.hpp>

#include "test_util.hpp"

using namespace unetflow;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() { return test_util::temp_dir("checkpoint"); }

template <class M>
std::vector<float> flat_state(M& m) {
  std::vector<float> out;
  m.visit("", [&](const std::string&, auto& e) {
    using E = std::decay_t<decltype(e)>;
    if constexpr (std::is_same_v<E, Counter>) out.push_back(float(e.value));
    else if constexpr (!std::is_same_v<E, Mode>) {
      auto h = e.to_host();
      out.insert(out.end(), h.begin(), h.end());
    }
  });
  return out;
}

using Small = ClassTimeUNet<1, 28, 28, 4, 10>;
const Metadata small_meta{{"model", "ClassTimeUNet<1,28,28,D=4,classes=10>"}};

// A model after one real training step, so that optimiser moments and BN statistics are non-trivial.
struct Trained {
  std::unique_ptr<Small> model = std::make_unique<Small>();
  Adam<cpu> adam{*model, {.lr = 1e-2}};
  ExponentialLR<Adam<cpu>> sched{adam, 0.5};
  explicit Trained(std::uint64_t seed) {
    Rng rng(seed);
    reset_parameters(*model, rng);
    Tensor<Shape<1, 28, 28>, cpu> x(2), dy(2);
    Tensor<Vec<1>, cpu> t(2);
    Tensor<Vec<10>, cpu> c(2);
    rng.fill_normal(x.data(), x.numel());
    rng.fill_normal(dy.data(), dy.numel());
    rng.fill_uniform(t.data(), t.numel());
    cpu::fill(c.data(), c.numel(), 0.f);
    c.data()[3] = 1;
    model->forward(x.view(), t.view(), c.view());
    model->backward(dy.view());
    adam.step();
    sched.step();
  }
  void save(const fs::path& p) { save_checkpoint(p, small_meta, part("", *model), part("optim.", adam), part("sched.", sched)); }
  void load(const fs::path& p) {
    load_checkpoint(p, small_meta, part("", *model), part("optim.", adam), part("sched.", sched));
    sched.restore();
  }
};

}  // namespace

TEST_CASE("checkpoint round trip restores model, optimiser and schedule exactly") {
  const auto dir = temp_dir();
  Trained a(1), b(2);
  a.save(dir / "a.safetensors");
  REQUIRE(flat_state(*a.model) != flat_state(*b.model));
  b.load(dir / "a.safetensors");
  CHECK(flat_state(*a.model) == flat_state(*b.model));
  CHECK(flat_state(a.adam) == flat_state(b.adam));
  CHECK(b.sched.last_epoch() == 1);
  CHECK(b.adam.options.lr == a.adam.options.lr);
  fs::remove_all(dir);
}

TEST_CASE("checkpoint tensor names are PyTorch's state_dict names") {
  const auto dir = temp_dir();
  Trained a(1);
  a.save(dir / "a.safetensors");
  const auto f = safetensors::read(dir / "a.safetensors");
  for (const char* name : {"c0.0.0.weight", "c0.0.1.running_var", "c0.0.1.num_batches_tracked", "d2.1.1.0.bias",
                           "unflat.0.weight", "u1.0.0.weight", "out.weight", "fc1_t.0.weight", "fc2_c.2.bias",
                           "optim.step", "optim.c0.0.0.weight.exp_avg_sq", "sched.last_epoch"})
    CHECK_MESSAGE(f.find(name), name);
  CHECK(f.find("c0.0.0.weight")->shape == std::vector<std::int64_t>{4, 1, 3, 3});
  CHECK(f.find("unflat.0.weight")->shape == std::vector<std::int64_t>{8, 8, 7, 7});
  CHECK(f.find("c0.0.1.num_batches_tracked")->dtype == safetensors::DType::I64);
  fs::remove_all(dir);
}

TEST_CASE("bad checkpoints are refused with one sentence, and the model is left as it was") {
  const auto dir = temp_dir();
  Trained a(1);
  a.save(dir / "good.safetensors");
  auto before = flat_state(*a.model);

  SUBCASE("a checkpoint of another model") {
    auto other = std::make_unique<UNet<1, 28, 28, 4>>();
    save_checkpoint(dir / "unet.safetensors", {{"model", "UNet<1,28,28,D=4>"}}, part("", *other));
    auto msg = test_util::error_of([&] { load_checkpoint(dir / "unet.safetensors", {}, part("", *a.model)); });
    CHECK(msg.find("unet.safetensors") != std::string::npos);
    CHECK(msg.find("has no tensor 'fc1_t.0.weight'") != std::string::npos);
    msg = test_util::error_of([&] { a.load(dir / "unet.safetensors"); });
    CHECK(msg.find("holds model 'UNet<1,28,28,D=4>', not the expected 'ClassTimeUNet") != std::string::npos);
  }
  SUBCASE("a checkpoint of the same model with another width") {
    auto wide = std::make_unique<ClassTimeUNet<1, 28, 28, 8, 10>>();
    save_checkpoint(dir / "wide.safetensors", {}, part("", *wide));
    auto msg = test_util::error_of([&] { load_checkpoint(dir / "wide.safetensors", {}, part("", *a.model)); });
    CHECK(msg.find("tensor 'c0.0.0.weight' has shape [8, 1, 3, 3] but the model expects [4, 1, 3, 3]") != std::string::npos);
  }
  SUBCASE("a model that is only part of the file") {
    auto small = std::make_unique<UNet<1, 28, 28, 4>>();
    auto msg = test_util::error_of([&] { load_checkpoint(dir / "good.safetensors", {}, part("", *small)); });
    CHECK(msg.find("which this model does not have") != std::string::npos);
  }
  SUBCASE("a truncated file") {
    fs::copy_file(dir / "good.safetensors", dir / "cut.safetensors");
    fs::resize_file(dir / "cut.safetensors", fs::file_size(dir / "good.safetensors") - 100);
    auto msg = test_util::error_of([&] { a.load(dir / "cut.safetensors"); });
    CHECK(msg.find("cut.safetensors is truncated") != std::string::npos);
    fs::resize_file(dir / "cut.safetensors", 5);
    msg = test_util::error_of([&] { a.load(dir / "cut.safetensors"); });
    CHECK(msg.find("shorter than its 8-byte header length") != std::string::npos);
  }
  SUBCASE("a wrong dtype") {
    auto f = safetensors::read(dir / "good.safetensors");
    auto& w = f.tensors.at("out.weight");
    std::vector<double> as_double(w.numel(), 0.5);
    f.add("out.weight", w.shape, as_double.data());
    safetensors::write(dir / "f64.safetensors", f);
    auto msg = test_util::error_of([&] { a.load(dir / "f64.safetensors"); });
    CHECK(msg.find("tensor 'out.weight' has dtype F64 but F32 is expected") != std::string::npos);
  }
  SUBCASE("not a safetensors file") {
    std::ofstream(dir / "text.safetensors") << "hello, this is not a checkpoint at all";
    auto msg = test_util::error_of([&] { a.load(dir / "text.safetensors"); });
    CHECK(msg.find("text.safetensors") != std::string::npos);
  }
  SUBCASE("a hostile header: huge or negative shapes, entries of the wrong type, tensors sharing bytes") {
    // A file of one 8-byte header length, the header text (padded) and `data` bytes of data.
    auto file = [&](const std::string& name, std::string header, std::size_t data) {
      header.append((8 - header.size() % 8) % 8, ' ');
      const std::uint64_t len = header.size();
      std::ofstream out(dir / name, std::ios::binary);
      out.write(reinterpret_cast<const char*>(&len), 8);
      out << header << std::string(data, '\0');
      return dir / name;
    };
    struct Case {
      const char* name;
      std::string header;
      const char* message;
    };
    for (const Case& c : {
             Case{"huge.safetensors", R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 16]}})",
                  "tensor 'a' has the shape [4294967296, 4294967296], which no file can hold"},
             Case{"negative.safetensors", R"({"a": {"dtype": "F32", "shape": [-2305843009213693952, -2], "data_offsets": [0, 16]}})",
                  "which no file can hold"},
             Case{"shape_text.safetensors", R"({"a": {"dtype": "F32", "shape": "four", "data_offsets": [0, 16]}})",
                  "has a \"shape\" entry that is not a list of whole numbers in range"},
             Case{"no_offsets.safetensors", R"({"a": {"dtype": "F32", "shape": [4]}})", "its header has an entry of the wrong type"},
             Case{"metadata.safetensors", R"({"__metadata__": {"model": 3}})", "its header has an entry of the wrong type"},
             Case{"array.safetensors", R"([1, 2, 3])", "its header is not a JSON object"},
             Case{"float_offsets.safetensors", R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 2.36e246]}})",
                  "has a \"data_offsets\" entry that is not a list of whole numbers in range"},
             Case{"float_shape.safetensors", R"({"a": {"dtype": "F32", "shape": [4.5], "data_offsets": [0, 16]}})",
                  "has a \"shape\" entry that is not a list of whole numbers in range"},
             Case{"overlap.safetensors",
                  R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
                  "two tensors share bytes 8 to 16 of the data"},
         }) {
      const auto path = file(c.name, c.header, 16);
      const auto msg = test_util::error_of([&] { (void)safetensors::read(path); });
      INFO(c.name, ": ", msg);
      CHECK(msg.find(c.message) != std::string::npos);
      CHECK(msg.find(path.string()) != std::string::npos);
    }
  }
  CHECK(flat_state(*a.model) == before);
  fs::remove_all(dir);
}

TEST_CASE("an interrupted checkpoint write leaves the previous checkpoint loadable") {
  const auto dir = temp_dir();
  Trained a(1), b(2);
  const auto path = dir / "model.safetensors";
  a.save(path);
  // A crash mid-write leaves only a partial temporary file beside the checkpoint; simulate one...
  std::ofstream(temporary_for(path)) << "partial";
  CHECK_NOTHROW(b.load(path));
  // ...and a write that fails (here: the temporary path cannot be created) reports and keeps the old file.
  fs::remove(temporary_for(path));
  fs::create_directory(temporary_for(path));
  Trained c(3);
  auto msg = test_util::error_of([&] { c.save(path); });
  CHECK(msg.find("cannot write") != std::string::npos);
  Trained d(4);
  d.load(path);
  CHECK(flat_state(*d.model) == flat_state(*a.model));
  fs::remove_all(dir);
}

TEST_CASE("interop export: a checkpoint and outputs for PyTorch to check (tests/python/interop_test.py)") {
  const char* out = std::getenv("UNETFLOW_INTEROP_DIR");
  Trained a(7);
  Rng rng(8);
  Tensor<Shape<1, 28, 28>, cpu> x(4);
  Tensor<Vec<1>, cpu> t(4);
  Tensor<Vec<10>, cpu> c(4);
  rng.fill_normal(x.data(), x.numel());
  rng.fill_uniform(t.data(), t.numel());
  cpu::fill(c.data(), c.numel(), 0.f);
  for (int i = 0; i < 3; ++i) c.data()[i * 10 + 2 * i + 1] = 1;  // the fourth sample has no class
  set_training(*a.model, false);
  auto y = a.model->forward(x.view(), t.view(), c.view());
  std::vector<float> eval_out(y.data, y.data + y.numel());
  CHECK(std::isfinite(eval_out[0]));
  if (!out) return;
  const fs::path dir(out);
  fs::create_directories(dir);
  save_checkpoint(dir / "model.safetensors", small_meta, part("", *a.model));
  safetensors::File io;
  io.add("x", {4, 1, 28, 28}, x.data());
  io.add("t", {4, 1}, t.data());
  io.add("c", {4, 10}, c.data());
  io.add("y_eval", {4, 1, 28, 28}, eval_out.data());
  safetensors::write(dir / "io.safetensors", io);
}
