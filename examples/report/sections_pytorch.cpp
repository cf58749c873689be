// The site's sections of PyTorch's own examples, ported (examples/pytorch/): each port's run, and beside it the
// original's figures and numbers from benchmarks/pytorch_examples.py on the same machine (its --run-folder).
#include "section_builder.hpp"

namespace report {

namespace {

const std::string mnist_command = "build/examples/pytorch_mnist --epochs 3 --threads 2";
const std::string mnist_compare_command =
    "/usr/bin/python3 benchmarks/pytorch_examples.py mnist --run-folder runs/pytorch_mnist_vs_original";
const std::string vae_command = "build/examples/pytorch_vae --epochs 10 --threads 2";
const std::string vae_compare_command =
    "/usr/bin/python3 benchmarks/pytorch_examples.py vae --run-folder runs/pytorch_vae_vs_original";
// DCGAN on each data set: the port's run and the comparison (the set's classifier scores both sides' samples)
struct DcganSet {
  const char *name, *run, *comparison, *data;
};
const DcganSet dcgan_sets[] = {{"MNIST", "pytorch_dcgan_mnist", "pytorch_dcgan_mnist_vs_original", "data/mnist"},
                               {"Fashion-MNIST", "pytorch_dcgan_fashion", "pytorch_dcgan_fashion_vs_original",
                                "/usr/share/datasets/fashion-mnist"}};

// A number of an entry of the summary's "epochs" list (nullopt when absent or not a number).
std::optional<double> epoch_number(const json& entry, const char* key) {
  if (!entry.is_object() || !entry.contains(key) || !entry[key].is_number()) return std::nullopt;
  return entry[key].get<double>();
}
const json& epochs_of(const Run& r) {
  static const json none = json::array();
  const auto& s = r.summary();
  return s.contains("epochs") && s["epochs"].is_array() ? s["epochs"] : none;
}

// The port's own run: every epoch's figures of merit and training speed.
json port_table(const Run& r, const std::vector<std::pair<const char*, const char*>>& columns) {
  std::vector<std::string> header{"epoch"};
  for (const auto& [key, title] : columns) header.push_back(title);
  header.push_back("training images/s");
  json t = table("The port's run (" + r.name() + ", " + r.text({"settings", "device"}).value_or("cpu") + ", " +
                     or_dash(r.number({"settings", "threads"}), count) + " threads)",
                 header);
  for (const auto& e : epochs_of(r)) {
    std::vector<std::string> row{or_dash(epoch_number(e, "epoch"), count)};
    for (const auto& [key, title] : columns)
      row.push_back(std::string(key) == "test_accuracy"
                        ? or_dash(epoch_number(e, key), percent)
                        : or_dash(epoch_number(e, key), [](double x) { return fixed(x, 4); }));
    row.push_back(or_dash(epoch_number(e, "train_images_per_second"), [](double x) { return fixed(x, 0); }));
    add_row(t, row);
  }
  return t;
}

// The comparison run: the figure of merit after each epoch over the seeds, both sides, and the training speed.
void comparison_tables(json& s, const Run& c, bool accuracy, bool metric = true) {
  const auto seeds = c.numbers({"config", "seeds"});
  std::string seed_list;
  for (double x : seeds) append(seed_list, ", ", count(x));
  const auto show = [&](std::optional<double> v) {
    return accuracy ? or_dash(v, [](double x) { return fixed(100 * x, 2) + " %"; })
                    : or_dash(v, [](double x) { return fixed(x, 2); });
  };
  json t = table(std::string(accuracy ? "Test accuracy" : "Test loss") +
                     " after each epoch, mean ± standard deviation over seeds " + seed_list + " (" +
                     or_dash(c.number({"config", "threads"}), count) + " threads each)",
                 {"epoch", "PyTorch's original", "unetflow's port", accuracy ? "port − original" : "port / original"});
  for (const auto& e : epochs_of(c)) {
    const auto om = epoch_number(e, "original_mean"), pm = epoch_number(e, "port_mean");
    std::string diff = "—";
    if (om && pm) diff = accuracy ? fixed(100 * (*pm - *om), 2) + " points" : fixed(*pm / *om, 4);
    add_row(t, {or_dash(epoch_number(e, "epoch"), count), show(om) + " ± " + show(epoch_number(e, "original_sd")),
                show(pm) + " ± " + show(epoch_number(e, "port_sd")), diff});
  }
  if (metric) s["tables"].push_back(t);
  json speed = table("Training speed on this machine (median over seeds and epochs)",
                     {"PyTorch's original, images/s", "unetflow's port, images/s", "port / original"});
  add_row(speed, {or_dash(c.number({"speed", "original_images_per_second"}), [](double x) { return fixed(x, 0); }),
                  or_dash(c.number({"speed", "port_images_per_second"}), [](double x) { return fixed(x, 0); }),
                  or_dash(c.number({"speed", "ratio"}), [](double x) { return fixed(x, 2) + "×"; })});
  s["tables"].push_back(speed);
  if (const auto cpu = c.text({"config", "machine"}))
    s["notes"].push_back({{"p", "Measured on " + *cpu + " by " +
                                    c.text({"config", "command"}).value_or("benchmarks/pytorch_examples.py") +
                                    ": the original (pytorch/examples at 37a1866, Debian's PyTorch " +
                                    c.text({"config", "torch"}).value_or("—") +
                                    ") unchanged apart from the data path, the port built from this repository."}});
}

// DCGAN's comparison: the classifier's Fréchet distance and class spread of each side's samples after each epoch.
void dcgan_tables(json& s, const Run& c, const std::string& set) {
  const auto seeds = c.numbers({"config", "seeds"});
  std::string seed_list;
  for (double x : seeds) append(seed_list, ", ", count(x));
  const auto show = [&](const json& e, const std::string& key, int digits) {
    const auto m = epoch_number(e, key.c_str()), sd = epoch_number(e, (key.substr(0, key.size() - 4) + "sd").c_str());
    const auto f = [digits](double x) { return fixed(x, digits); };
    return or_dash(m, f) + " ± " + or_dash(sd, f);
  };
  json t = table(set + ": the classifier's scores of " + or_dash(c.number({"config", "samples"}), count) +
                     " samples after each epoch, mean ± standard deviation over seeds " + seed_list +
                     " (lower Fréchet distance is better; class spread 1 is all ten classes equally)",
                 {"epoch", "Fréchet distance, original", "Fréchet distance, port", "class spread, original",
                  "class spread, port"});
  for (const auto& e : epochs_of(c))
    add_row(t, {or_dash(epoch_number(e, "epoch"), count), show(e, "original_mean", 1), show(e, "port_mean", 1),
                show(e, "class_spread_original_mean", 3), show(e, "class_spread_port_mean", 3)});
  s["tables"].push_back(t);
}

json differences_note() {
  return {{"p",
           "Where the port differs from the Python, and why, is listed in docs/library.md (\"PyTorch's examples, "
           "ported\"): the same computations, but not PyTorch's random numbers (other initial weights, shuffles, "
           "dropout masks and noise), so runs agree in distribution, not digit for digit."}};
}

}  // namespace

json p1(Builder& b) {
  auto s = b.section("P1", "The MNIST classifier (mnist/main.py)", {"pytorch_mnist", "pytorch_mnist_vs_original"},
                     {mnist_command, mnist_compare_command});
  s["notes"].push_back(
      {{"p",
        "Conv2d(1, 32, 3) – ReLU – Conv2d(32, 64, 3) – ReLU – MaxPool2d(2) – Dropout(0.25) – Flatten – Linear(9216, "
        "128) – ReLU – Dropout(0.5) – Linear(128, 10) – log-softmax, NLL loss, Adadelta (lr 1.0) with StepLR (γ 0.7 "
        "per epoch), batches of 64 in the files' order, as main.py on a CPU."}});
  if (const auto* r = b.run("pytorch_mnist"))
    s["tables"].push_back(port_table(*r, {{"test_loss", "test loss"}, {"test_accuracy", "test accuracy"}}));
  if (const auto* c = b.run("pytorch_mnist_vs_original")) comparison_tables(s, *c, true);
  s["notes"].push_back(differences_note());
  return s;
}

json p2(Builder& b) {
  auto s = b.section("P2", "The variational autoencoder (vae/main.py)", {"pytorch_vae", "pytorch_vae_vs_original"},
                     {vae_command, vae_compare_command});
  s["notes"].push_back({{"p",
                         "784–400–(20, 20) encoder, reparameterisation z = μ + ε·exp(½ log σ²), 20–400–784 decoder "
                         "with a sigmoid; loss: binary cross-entropy of the reconstruction plus the KL divergence, "
                         "summed; Adam (lr 10⁻³), shuffled batches of 128."}});
  if (const auto* r = b.run("pytorch_vae")) {
    const auto last = r->number({"settings", "epochs"});
    const std::string e = last ? count(*last) : "";
    b.figure(s, *r, "sample_" + e + ".png",
             "The port: 64 digits decoded from codes drawn from N(0, I), after epoch " + e + ".");
    b.figure(s, *r, "reconstruction_" + e + ".png",
             "The port: the first 8 test digits (top) and their reconstructions (bottom), after epoch " + e + ".");
    s["tables"].push_back(port_table(*r, {{"train_loss", "training loss"}, {"test_loss", "test loss"}}));
  }
  if (const auto* c = b.run("pytorch_vae_vs_original")) {
    for (const auto& [file, what] : c->files()) b.figure(s, *c, file, "PyTorch's original: " + what + ".");
    comparison_tables(s, *c, false);
  }
  s["notes"].push_back(differences_note());
  return s;
}

json p3(Builder& b) {
  std::vector<std::string> runs, commands;
  for (const auto& set : dcgan_sets) {
    runs.insert(runs.end(), {set.run, set.comparison});
    commands.push_back(std::string("build/examples/pytorch_dcgan --data ") + set.data +
                       " --epochs 5 --threads 2 --name " + set.run);
  }
  for (const auto& set : dcgan_sets)
    commands.push_back(std::string("/usr/bin/python3 benchmarks/pytorch_examples.py dcgan --dataset ") +
                       (set.data[0] == '/' ? "fashion-mnist" : "mnist") + " --epochs 1 --run-folder runs/" +
                       set.comparison);
  auto s = b.section("P3", "DCGAN at 28 × 28 (dcgan/main.py)", runs, commands);
  s["notes"].push_back(
      {{"p",
        "Generator: ConvTranspose2d(100, 256, 4, 1, 0) – BatchNorm – ReLU – ConvTranspose2d(256, 128, 3, 2, 1) – "
        "BatchNorm – ReLU – ConvTranspose2d(128, 64, 4, 2, 1) – BatchNorm – ReLU – ConvTranspose2d(64, 1, 4, 2, 1) – "
        "Tanh; the discriminator mirrors it with LeakyReLU(0.2) and a sigmoid; no biases. The original's networks "
        "with one stride-2 stage fewer (its ngf × 8 and ndf × 8), for 28 × 28 images; everything else as main.py: "
        "weights N(0, 0.02), Adam (lr 2·10⁻⁴, β₁ 0.5) for each, BCE, shuffled batches of 64, the fakes detached in "
        "the discriminator's step and not in the generator's."}});
  for (const auto& set : dcgan_sets) {
    if (const auto* r = b.run(set.run)) {
      const auto last = r->number({"settings", "epochs"});
      const std::string e = last ? count(*last - 1) : "";
      b.figure(s, *r, "fake_samples_epoch_" + e + ".png",
               std::string("The port on ") + set.name + ": the 64 images of its fixed noise after epoch " + e +
                   " (epochs count from 0, as main.py prints them).");
      s["tables"].push_back(
          port_table(*r, {{"loss_d", "Loss_D"}, {"loss_g", "Loss_G"}, {"d_x", "D(x)"}, {"d_g_z1", "D(G(z))"}}));
    }
    if (const auto* c = b.run(set.comparison)) {
      for (const auto& [file, what] : c->files())
        b.figure(s, *c, file,
                 std::string(file.starts_with("original") ? "PyTorch's original" : "unetflow's port") + " on " +
                     set.name + ": " + what + ".");
      dcgan_tables(s, *c, set.name);
      comparison_tables(s, *c, false, false);
    }
  }
  s["notes"].push_back(differences_note());
  return s;
}

}  // namespace report
