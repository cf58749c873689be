// The example programs against a hostile user (docs/reliability.md, second round): folders that are not theirs,
// two programs on one run folder, bombs in data and checkpoint files, flags that are not numbers or not safe names.
// Each case fails without its fix.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <unetflow/io/folder_lock.hpp>
#include <unetflow/io/npy.hpp>
#include <unetflow/io/safetensors.hpp>
#include <vector>

#include "command.hpp"
#include "synthetic_idx.hpp"

namespace fs = std::filesystem;

namespace {

using test_command::read_text;
using test_command::Result;
using test_command::run;
using test_command::write_text;

// The command's peak resident memory in MB, by GNU time (Debian's `time`, which scripts/setup.sh installs); -1 without it.
struct Measured {
  Result result;
  double peak_mb = -1;
};
Measured run_measured(const std::string& cmd) {
  if (!fs::exists("/usr/bin/time")) {
    MESSAGE("skipped the peak-memory check: /usr/bin/time is not installed (scripts/setup.sh installs it)");
    return {run(cmd), -1};
  }
  Measured m{run("/usr/bin/time -f 'peak_rss_kb=%M' " + cmd), -1};
  std::smatch match;
  if (std::regex_search(m.result.output, match, std::regex("peak_rss_kb=(\\d+)"))) m.peak_mb = std::stod(match[1]) / 1024;
  return m;
}

// The command stops with exit status 1 and `message`, its peak memory under 300 MB (where it can be measured).
void refused_within_300_mb(const std::string& cmd, const std::string& message, const std::string& what) {
  const auto m = run_measured(cmd);
  INFO(what, ": ", m.result.output);
  CHECK(m.result.status == 1);
  CHECK(m.result.output.find(message) != std::string::npos);
  if (m.peak_mb >= 0) CHECK(m.peak_mb < 300);
  MESSAGE(what << ": peak " << m.peak_mb << " MB");
}

// Every file under `dir` with its bytes: two snapshots compare equal when nothing was added, removed or changed.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    files[fs::relative(e.path(), dir).string()] = e.is_regular_file() ? read_text(e.path()) : "<dir>";
  return files;
}

const fs::path& work() {
  static const fs::path dir = [] {
    auto d = fs::temp_directory_path() / ("unetflow_hostile_" + std::to_string(::getpid()));
    fs::remove_all(d);
    synthetic::write_mnist_like(d / "data", "train", 192);
    synthetic::write_mnist_like(d / "data", "t10k", 48);
    return d;
  }();
  return dir;
}
std::string data_flag() { return " --data " + (work() / "data").string(); }
const std::string tiny = " --hidden 16 --epochs 1 --batch 32 --steps-per-epoch 2 --sample-steps 2 --quiet --threads 2";

// A finished one-epoch time-conditioned run (its checkpoint and weights), made once.
const fs::path& finished_run() {
  static const fs::path dir = [] {
    const auto r = run(std::string(TRAIN_FLOW) + data_flag() + " --runs " + (work() / "made").string() + tiny);
    REQUIRE_MESSAGE(r.status == 0, r.output);
    return work() / "made" / "flow_time";
  }();
  return dir;
}

}  // namespace

TEST_CASE("report replaces only a site it built: a folder of the user's files, the runs folder and a run are refused") {
  const auto runs = work() / "report_runs";
  auto r = run(std::string(NOISING_FIGURE) + data_flag() + " --runs " + runs.string());
  REQUIRE(r.status == 0);
  const auto runs_before = snapshot(runs);

  // A folder of the user's documents.
  const auto docs = work() / "documents";
  write_text(docs / "thesis.tex", "\\documentclass{article}");
  write_text(docs / "figures" / "plot.png", "not really a png");
  const auto docs_before = snapshot(docs);
  r = run(std::string(REPORT) + " --runs " + runs.string() + " --out " + docs.string());
  CHECK(r.status == 1);
  CHECK(r.output.find("error: --out " + docs.string() + " already holds files that report did not write") != std::string::npos);
  CHECK(snapshot(docs) == docs_before);

  // The runs folder itself, a folder that holds it, a run inside it, a folder inside a run.
  for (const auto& out : {runs, work(), runs / "noising", runs / "noising" / "site"}) {
    r = run(std::string(REPORT) + " --runs " + runs.string() + " --out " + out.string());
    INFO(out, r.output);
    CHECK(r.status == 1);
    CHECK(r.output.find("error: --out " + out.string()) != std::string::npos);
    CHECK(snapshot(runs) == runs_before);
  }
  r = run("cd " + runs.string() + " && " + REPORT + " --runs . --out .");
  CHECK(r.status == 1);
  CHECK(r.output.find("is or holds the runs folder") != std::string::npos);
  CHECK(snapshot(runs) == runs_before);

  // A file where the site would go.
  write_text(work() / "a_file", "x");
  r = run(std::string(REPORT) + " --runs " + runs.string() + " --out " + (work() / "a_file").string());
  CHECK(r.status == 1);
  CHECK(read_text(work() / "a_file") == "x");

  // What report built it replaces; an empty folder it fills; folders beside the site that look like its leftovers
  // but are the user's stay.
  write_text(runs / "site.partial-999" / "mine.txt", "the user's");
  r = run(std::string(REPORT) + " --runs " + runs.string() + " --quiet");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  CHECK(fs::exists(runs / "site" / ".unetflow-site"));
  r = run(std::string(REPORT) + " --runs " + runs.string() + " --quiet");
  CHECK(r.status == 0);
  CHECK(read_text(runs / "site.partial-999" / "mine.txt") == "the user's");
  fs::create_directories(work() / "empty_site");
  r = run(std::string(REPORT) + " --runs " + runs.string() + " --out " + (work() / "empty_site/").string() + " --quiet");
  CHECK(r.status == 0);
  CHECK(fs::exists(work() / "empty_site" / "index.html"));
  // A site of the versions before the marker is still recognised and replaced.
  fs::remove(work() / "empty_site" / ".unetflow-site");
  r = run(std::string(REPORT) + " --runs " + runs.string() + " --out " + (work() / "empty_site").string() + " --quiet");
  CHECK(r.status == 0);
  CHECK(fs::exists(work() / "empty_site" / ".unetflow-site"));
}

TEST_CASE("one writer per run folder: a second train_flow on the same run stops with one sentence, and kill -9 frees it") {
  const auto runs = work() / "lock_runs";
  // The first run, long enough to be caught running (thousands of steps), in the background.
  const std::string log = (work() / "first.log").string();
  const pid_t first = ::fork();
  REQUIRE(first >= 0);
  if (first == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    const std::string data = (work() / "data").string(), runs_arg = runs.string();
    ::execl(TRAIN_FLOW, TRAIN_FLOW, "--data", data.c_str(), "--runs", runs_arg.c_str(), "--hidden", "16", "--epochs", "1000",
            "--batch", "32", "--quiet", "--threads", "1", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait until it holds the lock (the test process cannot take it then).
  const auto dir = runs / "flow_time";
  bool held = false;
  for (int i = 0; i < 600 && !held; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(dir / unetflow::default_lock_file)) continue;
    try {
      unetflow::lock_folder(dir);
    } catch (const unetflow::Error&) {
      held = true;
    }
  }
  REQUIRE_MESSAGE(held, read_text(log));
  const auto r = run(std::string(TRAIN_FLOW) + data_flag() + " --runs " + runs.string() + tiny + " --seed 2");
  CHECK(r.status == 1);
  CHECK(r.output == "error: " + dir.string() + " is being written by process " + std::to_string(first) +
                        " (train_flow): one folder takes one writer at a time, so wait for it to end or write elsewhere.\n");
  ::kill(first, SIGKILL);
  int status = 0;
  ::waitpid(first, &status, 0);
  // The kernel released the lock with the process: the next start is not refused by it.
  const auto next = run(std::string(TRAIN_FLOW) + data_flag() + " --runs " + runs.string() + tiny +
                        (fs::exists(dir / "checkpoint.safetensors") ? " --resume" : ""));
  CHECK(next.output.find("is being written") == std::string::npos);
}

TEST_CASE("sample --out, report --out and noising_figure take the same lock") {
  const auto out = work() / "locked_out";
  auto lock = unetflow::lock_folder(out);
  const std::string holder = "is being written by process " + std::to_string(::getpid());
  auto r = run(std::string(SAMPLE) + " " + (finished_run() / "model-epoch1.safetensors").string() + " -n 4 --steps 2 --out " + out.string());
  CHECK(r.status == 1);
  CHECK(r.output.find("error: " + out.string() + " " + holder) != std::string::npos);
  r = run(std::string(NOISING_FIGURE) + data_flag() + " --runs " + work().string() + " --name locked_out");
  CHECK(r.status == 1);
  CHECK(r.output.find(holder) != std::string::npos);
  auto site_lock = unetflow::lock_folder(work(), ".report-lock-site_locked");
  r = run(std::string(REPORT) + " --runs " + (work() / "made").string() + " --out " + (work() / "site_locked").string());
  CHECK(r.status == 1);
  CHECK(r.output.find(holder) != std::string::npos);
  lock.reset();
  r = run(std::string(SAMPLE) + " " + (finished_run() / "model-epoch1.safetensors").string() + " -n 4 --steps 2 --out " + out.string());
  CHECK_MESSAGE(r.status == 0, r.output);
}

TEST_CASE("a resume from a checkpoint whose noise state is all zeros stops with one sentence at once") {
  const auto runs = work() / "zero_runs";
  fs::create_directories(runs);
  fs::copy(finished_run(), runs / "flow_time", fs::copy_options::recursive);
  fs::remove(runs / "flow_time" / unetflow::default_lock_file);
  auto file = unetflow::safetensors::read(runs / "flow_time" / "checkpoint.safetensors");
  auto& words = file.tensors.at("progress.noise_rng").bytes;
  std::fill(words.begin(), words.begin() + 32, char(0));
  unetflow::safetensors::write(runs / "flow_time" / "checkpoint.safetensors", file);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run("timeout 60 " + std::string(TRAIN_FLOW) + data_flag() + " --runs " + runs.string() +
                     " --hidden 16 --epochs 2 --batch 32 --steps-per-epoch 2 --sample-steps 2 --quiet --threads 2 --resume");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(r.status == 1);
  CHECK(r.output.find("the saved random-stream state cannot be used: its four state words are all zero") != std::string::npos);
  CHECK(seconds < 10);  // the whole program, start to refusal (it spun until killed before)
  MESSAGE("train_flow --resume on a zero noise state: refused after " << seconds << " s");
}

TEST_CASE("bombs: a gzip IDX file, image headers and a checkpoint tensor that claim gigabytes stay under 300 MB") {
  // A 1 MB gzip file: a correct header for 48 test images, then 1 GB of zeros.
  const auto gz = work() / "gzip_bomb";
  synthetic::write_mnist_like(gz, "train", 64);
  synthetic::write_mnist_like(gz, "t10k", 48);
  {
    std::vector<std::uint8_t> header = synthetic::idx_bytes({48, 28, 28}, std::vector<std::uint8_t>(48 * 784, 7));
    gzFile f = gzopen((gz / "t10k-images-idx3-ubyte.gz").c_str(), "wb9");
    REQUIRE(gzwrite(f, header.data(), unsigned(header.size())) == int(header.size()));
    const std::vector<std::uint8_t> zeros(1 << 20, 0);
    for (int i = 0; i < 1024; ++i) REQUIRE(gzwrite(f, zeros.data(), unsigned(zeros.size())) == int(zeros.size()));
    gzclose(f);
    fs::remove(gz / "t10k-images-idx3-ubyte");
  }
  CHECK(fs::file_size(gz / "t10k-images-idx3-ubyte.gz") < 2000000);
  refused_within_300_mb(std::string(NOISING_FIGURE) + " --data " + gz.string() + " --runs " + (work() / "bomb_runs").string(),
                        "t10k-images-idx3-ubyte.gz is longer than its header says", "gzip bomb (1 GB inflated)");

  // Four 66-byte PNGs whose headers claim 32000x32000 grey pixels (1 GB each: under stb_image's own limit of 2^30).
  const auto png = work() / "png_bomb";
  const auto bomb = synthetic::png_claiming(32000, 32000);
  for (const char* split : {"train", "test"})
    for (int i = 0; i < 4; ++i) {
      fs::create_directories(png / split / "cat");
      synthetic::write(png / split / "cat" / (std::to_string(i) + ".png"), bomb);
    }
  refused_within_300_mb(std::string(TRAIN_CLASSIFIER) + " --data " + png.string() + " --runs " + (work() / "bomb_runs").string() + " --quiet",
                        "0.png is 32000x32000 pixels (by its header); the images must be 28x28 or 32x32", "PNG header bomb (4 x 32000x32000)");

  // A model-epoch file with one more tensor of 2 GB (a hole in a sparse file).
  const auto big = work() / "big.safetensors";
  {
    const auto good = read_text(finished_run() / "model-epoch1.safetensors");
    std::uint64_t len = 0;
    std::memcpy(&len, good.data(), 8);
    auto header = nlohmann::json::parse(good.substr(8, len));
    const std::uint64_t data = good.size() - 8 - len, extra = std::uint64_t(1) << 31;
    header["zzz_extra"] = {{"dtype", "F32"}, {"shape", {extra / 4}}, {"data_offsets", {data, data + extra}}};
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    const std::uint64_t n = text.size();
    std::ofstream out(big, std::ios::binary);
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << text << good.substr(8 + len);
    out.close();
    fs::resize_file(big, 8 + n + data + extra);
  }
  refused_within_300_mb(std::string(SAMPLE) + " " + big.string() + " -n 4 --steps 2 --out " + (work() / "big_out").string(),
                        "holds tensor 'zzz_extra', which this model does not have", "checkpoint with a 2 GB extra tensor");
  fs::remove(big);
}

TEST_CASE("every floating-point flag of every program refuses NaN and infinity, every unsigned one a negative number") {
  const std::string existing = " " + (work() / "data" / "t10k-labels-idx1-ubyte").string();  // a positional file
  int floats = 0, unsigneds = 0;
  for (const std::string program : {NOISING_FIGURE, TRAIN_DENOISER, TRAIN_PURE_NOISE, TRAIN_FLOW, TRAIN_CLASSIFIER, SAMPLE, SCORE}) {
    const bool positional = program == SAMPLE || program == SCORE;
    const auto help = run(program + " --help").output;
    // CLI11's help names each option's type: "  --lr FLOAT:POSITIVE [0.0001]", "  --seed UINT [0]".
    const std::regex option(R"(\n\s+(?:-\w,)?(--[a-z-]+) (FLOAT|UINT)\b)");
    for (auto it = std::sregex_iterator(help.begin(), help.end(), option); it != std::sregex_iterator(); ++it) {
      const std::string flag = (*it)[1], type = (*it)[2];
      for (const std::string& value : type == "FLOAT" ? std::vector<std::string>{"nan", "inf", "-inf", "NaN"} : std::vector<std::string>{"-1"}) {
        const auto r = run(program + (positional ? existing : data_flag() + " --runs " + (work() / "never").string()) + " " + flag +
                           " " + value);
        INFO(program, " ", flag, " ", value, ": ", r.output);
        CHECK(r.status != 0);
        CHECK(r.output.find(flag) != std::string::npos);
        CHECK(r.output.find(type == "FLOAT" ? "is not a finite number" : "is negative") != std::string::npos);
      }
      ++(type == "FLOAT" ? floats : unsigneds);
    }
  }
  CHECK(floats >= 9);     // --sigma, --lr (five programs), --gamma (two), --p-uncond, --ema
  CHECK(unsigneds >= 6);  // --seed of every program but score
  CHECK_FALSE(fs::exists(work() / "never"));
}

TEST_CASE("names are a safe character set, --threads is bounded, and the Part 1 programs' help says what they read") {
  for (const std::string& name : std::vector<std::string>{"'a\nb'", "'a b'", "'-x'", "'.hidden'", "'a;b'", "'" + std::string(101, 'a') + "'"}) {
    const auto r = run(std::string(TRAIN_FLOW) + " --name " + name + data_flag() + " --runs " + (work() / "never").string() + tiny);
    INFO(name, r.output);
    CHECK(r.status != 0);
    CHECK(r.output.find("is not a plain folder name") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(work() / "never"));
  for (const std::string threads : {"100000", "2147483647", "99999999999999999999", "-1"}) {
    const auto r = run(std::string(TRAIN_FLOW) + " --threads " + threads + data_flag() + " --runs " + (work() / "never").string());
    INFO(threads, r.output);
    CHECK(r.status != 0);
    CHECK(r.output.find("--threads") != std::string::npos);
  }
  auto r = run(std::string(TRAIN_FLOW) + " --threads 100000");
  CHECK(r.output.find("'100000' is more than the") != std::string::npos);
  r = run("OMP_NUM_THREADS=100000 " + std::string(TRAIN_FLOW) + data_flag() + " --runs " + (work() / "never").string() + " --quiet");
  CHECK(r.status == 1);
  CHECK(r.output.find("error: OMP_NUM_THREADS asks for 100000 threads, more than the") != std::string::npos);
  for (const char* program : {TRAIN_DENOISER, TRAIN_PURE_NOISE}) {
    const auto help = run(std::string(program) + " --help").output;
    CHECK(help.find("MNIST-format IDX files") != std::string::npos);
    CHECK(help.find("CIFAR") == std::string::npos);
    CHECK(help.find("folders of") == std::string::npos);
  }
}

TEST_CASE("score checks the samples' shape and refuses a score that cannot be computed") {
  const auto runs = work() / "score_runs";
  auto r = run(std::string(TRAIN_CLASSIFIER) + data_flag() + " --runs " + runs.string() + " --epochs 1 --steps-per-epoch 2 --quiet --threads 2");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  const std::string classifier = " --classifier " + (runs / "classifier_data" / "classifier.safetensors").string() + data_flag();
  REQUIRE(fs::exists(runs / "classifier_data" / "classifier.safetensors"));
  const std::vector<float> values(2 * 56 * 28, 0.5f);
  auto score = [&](const std::string& name, const std::vector<float>& v, const std::vector<std::size_t>& shape) {
    unetflow::write_npy(work() / name, v.data(), shape);
    return run(std::string(SCORE) + " " + (work() / name).string() + classifier);
  };
  r = score("tall.npy", values, {2, 1, 56, 28});
  CHECK(r.status == 1);
  CHECK(r.output.find("tall.npy has the shape (2, 1, 56, 28), not (n, 1, 28, 28) with n >= 1") != std::string::npos);
  r = score("flat.npy", std::vector<float>(3 * 784, 0.5f), {3 * 784});
  CHECK(r.status == 1);
  CHECK(r.output.find("flat.npy has the shape (2352,), not (n, 1, 28, 28)") != std::string::npos);
  r = score("ok.npy", std::vector<float>(4 * 784, 0.5f), {4, 1, 28, 28});
  CHECK_MESSAGE(r.status == 0, r.output);
  r = score("huge.npy", std::vector<float>(4 * 784, 3e38f), {4, 1, 28, 28});
  CHECK(r.status == 1);
  CHECK(r.output.find("error: a Frechet distance cannot be computed") != std::string::npos);
  CHECK(r.output.find("nan") == std::string::npos);
}
