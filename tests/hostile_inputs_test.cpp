// The library's side of the second reliability round (docs/reliability.md): inputs a hostile or unlucky user gives,
// each refused in one sentence where it enters, with nothing allocated for it, nothing hanging and nothing of
// anyone else's touched. The programs' side is in hostile_programs_test.cpp.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unetflow/data/image_folder.hpp>
#include <unetflow/eval/frechet.hpp>
#include <unetflow/io/folder_lock.hpp>
#include <unetflow/system_memory.hpp>
#include <unetflow/unetflow.hpp>

#include "synthetic_idx.hpp"
#include "test_util.hpp"

using namespace unetflow;
namespace fs = std::filesystem;

namespace {

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// The process's peak resident memory so far, in KiB.
long peak_rss_kb() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("a random-stream state that cannot produce numbers is refused, so no draw loop can spin") {
  Rng rng(3);
  Rng::State zero = rng.state();
  zero.s = {0, 0, 0, 0};
  zero.has_cached = false;
  const auto message = test_util::error_of([&] { rng.set_state(zero, "checkpoint x.safetensors"); });
  CHECK(message.find("checkpoint x.safetensors: its four state words are all zero") != std::string::npos);
  Rng::State nan_cache = rng.state();
  nan_cache.has_cached = true;
  nan_cache.cached_normal = std::nan("");
  CHECK(test_util::error_of([&] { rng.set_state(nan_cache); }).find("cached normal value is not a finite number") != std::string::npos);
  // The refused states left the stream as it was: it still draws.
  const double a = rng.normal();
  CHECK(std::isfinite(a));
  CHECK(Rng::unusable(rng.state()).empty());
  CHECK(rng.below(0) == 0);  // no division by zero
}

TEST_CASE("a resume whose saved noise state is all zeros stops with one sentence at load, in well under a second") {
  using Tiny = UNet<1, 28, 28, 4>;
  const auto set = test_util::constant_images(16);
  const auto dir = test_util::temp_dir("zero_noise");
  fs::remove_all(dir);
  TrainOptions o;
  o.epochs = 1;
  o.batch = 8;
  o.run_dir = dir;
  o.progress = false;
  {
    auto model = std::make_unique<Tiny>();
    DenoiseTask<Tiny> task(0.5, false);
    Trainer<Tiny, DenoiseTask<Tiny>>(*model, task, set, o, {{"model", "Tiny"}}).run();
  }
  auto file = safetensors::read(dir / "checkpoint.safetensors");
  auto& words = file.tensors.at("progress.noise_rng").bytes;
  std::fill(words.begin(), words.begin() + 4 * 8, char(0));
  safetensors::write(dir / "checkpoint.safetensors", file);
  o.epochs = 2;
  o.resume = true;
  auto model = std::make_unique<Tiny>();
  DenoiseTask<Tiny> task(0.5, false);
  Trainer<Tiny, DenoiseTask<Tiny>> trainer(*model, task, set, o, {{"model", "Tiny"}});
  const auto t0 = std::chrono::steady_clock::now();
  const auto message = test_util::error_of([&] { trainer.run(); });
  CHECK(seconds_since(t0) < 1.0);
  CHECK(message.find((dir / "checkpoint.safetensors").string() + ": the saved random-stream state cannot be used: its four state words are all zero") !=
        std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("the memory a process may take is the smaller of the machine's and its container's (cgroup v2 and v1)") {
  const auto dir = test_util::temp_dir("cgroup");
  // v2, the process in a nested group as /proc/self/cgroup says: limit 3 GB, 1 GB used of which 0.25 GB is cache.
  write_text(dir / "self_v2", "0::/box/job\n");
  write_text(dir / "v2" / "box" / "job" / "memory.max", "3000000000\n");
  write_text(dir / "v2" / "box" / "job" / "memory.current", "1000000000\n");
  write_text(dir / "v2" / "box" / "job" / "memory.stat", "anon 700000000\nfile 300000000\ninactive_file 250000000\n");
  auto left = cgroup_memory_left(dir / "v2", dir / "self_v2");
  REQUIRE(left.has_value());
  CHECK(*left == doctest::Approx(2.25e9));
  // The container's own view: no path in /proc/self/cgroup that exists below the root, the files at the root.
  write_text(dir / "self_root", "0::/\n");
  write_text(dir / "v2root" / "memory.max", "max\n");
  write_text(dir / "v2root" / "memory.current", "5\n");
  CHECK_FALSE(cgroup_memory_left(dir / "v2root", dir / "self_root").has_value());  // no limit
  write_text(dir / "v2root" / "memory.max", "2000000000\n");
  CHECK(*cgroup_memory_left(dir / "v2root", dir / "self_root") == doctest::Approx(2e9 - 5));
  // v1: the memory controller's hierarchy, "no limit" as a huge number.
  write_text(dir / "self_v1", "12:cpu,cpuacct:/x\n9:memory:/docker/abc\n");
  write_text(dir / "v1" / "memory" / "docker" / "abc" / "memory.limit_in_bytes", "3221225472\n");
  write_text(dir / "v1" / "memory" / "docker" / "abc" / "memory.usage_in_bytes", "221225472\n");
  write_text(dir / "v1" / "memory" / "docker" / "abc" / "memory.stat", "cache 1\ntotal_inactive_file 21225472\n");
  CHECK(*cgroup_memory_left(dir / "v1", dir / "self_v1") == doctest::Approx(3221225472.0 - 200000000.0));
  write_text(dir / "v1" / "memory" / "docker" / "abc" / "memory.limit_in_bytes", "9223372036854771712\n");
  CHECK_FALSE(cgroup_memory_left(dir / "v1", dir / "self_v1").has_value());
  CHECK_FALSE(cgroup_memory_left(dir / "none", dir / "self_v1").has_value());  // no cgroup files at all
  // What the process may take is never more than the machine has.
  const auto machine = machine_memory_available();
  REQUIRE(machine.has_value());
  CHECK(available_memory_bytes() <= *machine);
  CHECK(available_memory_bytes() > 0);
  const auto message = test_util::error_of([] { require_memory(1e18, "reading x"); });
  CHECK(message.find("reading x needs 1e+09 GB of memory, more than the") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a gzip file that inflates past its IDX header is refused after header + one chunk, not inflated whole") {
  const auto dir = test_util::temp_dir("gzip_bomb");
  // The header says 10 images of 28x28 (7,840 bytes); the stream holds 64 MB of zeros after it.
  std::vector<std::uint8_t> bytes = synthetic::idx_bytes({10, 28, 28}, std::vector<std::uint8_t>(10 * 784, 1));
  bytes.resize(bytes.size() + (std::size_t(64) << 20), 0);
  synthetic::write(dir / "bomb.gz", bytes, true);
  CHECK(fs::file_size(dir / "bomb.gz") < 200000);
  const auto t0 = std::chrono::steady_clock::now();
  const auto message = test_util::error_of([&] { idx::read(dir / "bomb.gz", {idx::any, 28, 28}); });
  // Stopped one chunk past the declared data: the whole stream would have given 67108864 extra bytes.
  CHECK(message.find("is longer than its header says (at least 4096 extra bytes)") != std::string::npos);
  CHECK(seconds_since(t0) < 1.0);
  // A header that declares more values than the process could hold is refused before any data is read.
  synthetic::write(dir / "huge.gz", synthetic::idx_bytes({4000000, 4000, 4000}, {1, 2, 3}), true);
  const auto huge = test_util::error_of([&] { idx::read(dir / "huge.gz", {idx::any, idx::any, idx::any}); });
  CHECK(huge.find("its header declares 64000000000000 values) needs") != std::string::npos);
  // A good gzip file still reads.
  const auto good = synthetic::idx_bytes({2, 28, 28}, std::vector<std::uint8_t>(2 * 784, 9));
  synthetic::write(dir / "good.gz", good, true);
  const auto a = idx::read(dir / "good.gz", {idx::any, 28, 28});
  CHECK(a.dims == std::vector<std::uint32_t>{2, 28, 28});
  CHECK(a.data == std::vector<std::uint8_t>(2 * 784, 9));
  fs::remove_all(dir);
}

TEST_CASE("image folders: a header that claims a huge image is refused from the header, before any allocation") {
  const auto dir = test_util::temp_dir("png_bomb");
  const auto bomb = synthetic::png_claiming(32000, 32000);
  fs::create_directories(dir / "set" / "a");
  for (int i = 0; i < 4; ++i) synthetic::write(dir / "set" / "a" / ("bomb" + std::to_string(i) + ".png"), bomb);
  // With the sizes the caller takes: refused by size.
  auto message = test_util::error_of([&] { load_image_folder(dir / "set", {{28, 28}, {32, 32}}); });
  CHECK(message.find("bomb0.png is 32000x32000 pixels (by its header); the images must be 28x28 or 32x32") != std::string::npos);
  // With any size: refused because 45 bytes cannot hold 3 GB of pixels.
  message = test_util::error_of([&] { load_image_folder(dir / "set"); });
  CHECK(message.find("bomb0.png claims 32000x32000 pixels in its header, more than a file of 66 bytes can hold") != std::string::npos);
  // A plausible size that the caller does not take is refused by its header too.
  fs::create_directories(dir / "set2" / "a");
  synthetic::write(dir / "set2" / "a" / "x.png", synthetic::png_claiming(28, 28));
  message = test_util::error_of([&] { load_image_folder(dir / "set2", {{32, 32}}); });
  CHECK(message.find("is 28x28 pixels (by its header); the images must be 32x32") != std::string::npos);
  // Damaged PNGs and other formats are refused before stb_image sees them: a wrong CRC, an empty IDAT (stb_image
  // copies to a null pointer), a JPEG whose Huffman table makes stb_image write out of bounds (found by the fuzzer).
  auto bad = synthetic::png_claiming(28, 28);
  bad[30] ^= 1;  // inside IHDR: its CRC no longer matches
  synthetic::write(dir / "set2" / "a" / "x.png", bad);
  CHECK(test_util::error_of([&] { load_image_folder(dir / "set2"); }).find("x.png is not a well-formed PNG: the CRC of its IHDR chunk is wrong") !=
        std::string::npos);
  auto empty_idat = synthetic::png_claiming(28, 28);
  const std::vector<std::uint8_t> iend(empty_idat.end() - 12, empty_idat.end());
  empty_idat.resize(33);  // signature and IHDR
  for (std::uint8_t b : std::vector<std::uint8_t>{0, 0, 0, 0, 'I', 'D', 'A', 'T', 0x35, 0xaf, 0x06, 0x1e}) empty_idat.push_back(b);
  empty_idat.insert(empty_idat.end(), iend.begin(), iend.end());
  synthetic::write(dir / "set2" / "a" / "x.png", empty_idat);
  CHECK(test_util::error_of([&] { load_image_folder(dir / "set2"); }).find("x.png is not a well-formed PNG: it has an empty IDAT chunk") !=
        std::string::npos);
  synthetic::write(dir / "set2" / "a" / "x.png", {0xff, 0xd8, 0xff, 0xc4, 0x0e, 0, 0, 0, 0x84, 0x84, 0x84, 0x84});
  CHECK(test_util::error_of([&] { load_image_folder(dir / "set2"); }).find("x.png is not an image this reader takes: image folders hold PNG files only") !=
        std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a checkpoint's header is checked against the model before its data is read") {
  const auto dir = test_util::temp_dir("header_first");
  Linear<4, 3> model;
  Rng rng(1);
  reset_parameters(model, rng);
  save_checkpoint(dir / "m.safetensors", {{"model", "L"}}, part("", model));
  // The same file with a 2 GB tensor more, its bytes a hole in a sparse file: a reader that reads before checking
  // takes seconds and 2 GB.
  std::ifstream in(dir / "m.safetensors", std::ios::binary);
  std::uint64_t len = 0;
  in.read(reinterpret_cast<char*>(&len), 8);
  std::string header(len, '\0');
  in.read(header.data(), std::streamsize(len));
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto j = nlohmann::json::parse(header);
  const std::uint64_t extra = std::uint64_t(1) << 31;
  j["zzz_extra"] = {{"dtype", "F32"}, {"shape", {extra / 4}}, {"data_offsets", {data.size(), data.size() + extra}}};
  std::string text = j.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  {
    std::ofstream out(dir / "big.safetensors", std::ios::binary);
    const std::uint64_t n = text.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << text << data;
  }
  fs::resize_file(dir / "big.safetensors", 8 + text.size() + data.size() + extra);
  Linear<4, 3> other;
  const long peak_before = peak_rss_kb();
  const auto message = test_util::error_of([&] { load_checkpoint(dir / "big.safetensors", {{"model", "L"}}, part("", other)); });
  CHECK(message.find("holds tensor 'zzz_extra', which this model does not have") != std::string::npos);
  CHECK(peak_rss_kb() - peak_before < 256 * 1024);  // reading the tensor first would add 2 GB
  // load_weights leaves the training state of a full checkpoint aside without reading it; metadata alone reads no data.
  CHECK(safetensors::read_metadata(dir / "big.safetensors").at("model") == "L");
  fs::remove_all(dir);
}

TEST_CASE("a Frechet distance that cannot be computed is an error, not a number") {
  std::vector<float> good{0, 1, 1, 0, 2, 2}, infinite{0, 1, INFINITY, 0, 2, 2};
  const auto reference = fit_gaussian(good, 3, 2);
  CHECK(std::isfinite(frechet_distance(reference, reference)));
  CHECK(test_util::error_of([&] { fit_gaussian(infinite, 3, 2); }).find("feature 0 of vector 1 is not a finite number") != std::string::npos);
  // Float features cannot overflow the double sums; Gaussians given directly can.
  Gaussian huge = reference;
  huge.mean *= 1e300;
  CHECK(test_util::error_of([&] { frechet_distance(huge, reference); }).find("a Frechet distance cannot be computed") != std::string::npos);
}

TEST_CASE("thread counts are bounded at four per core") {
  CHECK(max_threads() == 4 * omp_get_num_procs());
  const int before = threads();
  CHECK(test_util::error_of([] { set_threads(100000); }).find("100000 threads is more than the") != std::string::npos);
  CHECK(threads() == before);
  set_threads(max_threads());
  CHECK(threads() == max_threads());
  set_threads(before);
}

TEST_CASE("one writer per folder: a second process is refused with the holder named, and kill -9 releases the lock") {
  const auto dir = test_util::temp_dir("lock");
  auto mine = lock_folder(dir);
  CHECK(lock_folder(dir) == mine);  // shared within a process
  mine.reset();
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // takes the lock, says so, and waits to be killed
    try {
      auto held = lock_folder(dir);
      (void)!::write(ready[1], "x", 1);
      for (;;) ::pause();
    } catch (...) {
      ::_exit(3);
    }
  }
  char c;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  const auto message = test_util::error_of([&] { lock_folder(dir); });
  CHECK(message == dir.string() + " is being written by process " + std::to_string(child) +
                       " (unetflow_tests): one folder takes one writer at a time, so wait for it to end or write elsewhere.");
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK_NOTHROW(lock_folder(dir));  // the kernel released the dead holder's lock: never stale
  ::close(ready[0]);
  ::close(ready[1]);
  fs::remove_all(dir);
}

namespace {
struct Stopped {
  int status = -1, signal = 0;
  double seconds_after_signal = 0;
  std::string output;
};
// Runs hanging_step MODE in a fresh run folder, sends SIGTERM as soon as its third step starts, and times the exit.
Stopped stop_during_third_step(const std::string& mode) {
  const auto dir = test_util::temp_dir("stop_" + mode);
  fs::remove_all(dir);
  int out[2];
  REQUIRE(::pipe(out) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::close(out[0]);
    ::execl(HANGING_STEP, HANGING_STEP, mode.c_str(), dir.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  Stopped r;
  std::chrono::steady_clock::time_point signalled;
  char buf[512];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) {
    const bool first = r.output.find("in step 3") == std::string::npos;
    r.output.append(buf, std::size_t(n));
    if (first && r.output.find("in step 3") != std::string::npos) {
      signalled = std::chrono::steady_clock::now();
      ::kill(child, SIGTERM);
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  r.seconds_after_signal = seconds_since(signalled);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  ::close(out[0]);
  fs::remove_all(dir);
  return r;
}
}  // namespace

TEST_CASE("a stop request is honoured within about a second even when the step in progress never ends") {
  // A step that hangs: the program ends one second after SIGTERM, with one sentence, not minutes later.
  // The watchdog's grace is one second; the bound allows for scheduling on a loaded 2-core machine (2.6 s was seen
  // while the sanitizer build ran beside this test), and the lower one shows the grace was given.
  auto r = stop_during_third_step("hang");
  INFO(r.output);
  CHECK(r.status == 128 + SIGTERM);
  CHECK(r.seconds_after_signal > 0.9);
  CHECK(r.seconds_after_signal < 4.0);
  CHECK(r.output.find("stopped: the SIGTERM came while a step or an epoch's outputs were in progress, which did not end in time; no checkpoint was written yet.") !=
        std::string::npos);
  // A step that ends (300 ms, far longer than the steps before it, but within the second): it finishes, a checkpoint
  // is written and the run returns as interrupted.
  r = stop_during_third_step("slow");
  INFO(r.output);
  CHECK(r.status == 130);
  CHECK(r.output.find("interrupted") != std::string::npos);
  CHECK(r.seconds_after_signal < 4.0);
}
