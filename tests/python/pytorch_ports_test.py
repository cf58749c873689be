"""PyTorch's examples ported (examples/pytorch/): each port trains on a small synthetic MNIST-format set, its loss
falls and its files exist; its weights load into the original's own modules (benchmarks/pytorch_examples/,
pytorch/examples at 37a1866; DCGAN's at 28 x 28, dcgan_28.py) with load_state_dict(strict=True), and those modules
give the port's outputs.

    /usr/bin/python3 tests/python/pytorch_ports_test.py BUILD/examples BUILD/tests/synthetic_mnist

Exits 77 (CTest's "skipped") when PyTorch is not installed.
"""
import ast
import gzip
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError:
    print("pytorch ports test skipped: PyTorch is not installed (scripts/setup.sh --torch installs it)")
    sys.exit(77)

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import torch_unet as tu  # noqa: E402  (load_safetensors)

originals = os.path.join(here, "..", "..", "benchmarks", "pytorch_examples")
examples, synthetic = sys.argv[1], sys.argv[2]
failures = []


def check(ok, message):
    print(("ok    " if ok else "FAIL  ") + message)
    if not ok:
        failures.append(message)


def idx(path):
    """An IDX file (raw or .gz) as a numpy array."""
    name = path if os.path.exists(path) else path + ".gz"
    with (gzip.open if name.endswith(".gz") else open)(name, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def original_class(file, name):
    """The class `name` of an original example, defined alone (the examples run their training at import)."""
    with open(os.path.join(originals, file)) as f:
        tree = ast.parse(f.read())
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    ns = {"torch": torch, "nn": torch.nn, "F": F}
    exec(compile(ast.Module(body=[node], type_ignores=[]), file, "exec"), ns)
    return ns[name]


def run(program, *args):
    out = subprocess.run([os.path.join(examples, program), *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{program} failed ({out.returncode}): {out.stderr.strip()}")
    return out.stdout


with tempfile.TemporaryDirectory() as d:
    data, runs = os.path.join(d, "data"), os.path.join(d, "runs")
    subprocess.run([synthetic, data, "640", "200"], check=True)
    test_images = idx(os.path.join(data, "t10k-images-idx3-ubyte")).astype(np.float32) / 255
    test_labels = idx(os.path.join(data, "t10k-labels-idx1-ubyte")).astype(np.int64)
    common = ["--data", data, "--runs", runs, "--threads", "2", "--epochs", "2", "--device", "cpu"]

    # ---- mnist/main.py ----
    printed = run("pytorch_mnist", *common, "--log-interval", "5")
    with open(os.path.join(runs, "pytorch_mnist", "summary.json")) as f:
        summary = json.load(f)
    epochs = summary["epochs"]
    check(len(epochs) == 2 and epochs[1]["train_loss"] < epochs[0]["train_loss"],
          f"mnist: the training loss falls ({[round(e['train_loss'], 4) for e in epochs]})")
    check("Test set: Average loss:" in printed and "Train Epoch: 2 [" in printed, "mnist: prints as main.py does")
    check(os.path.exists(os.path.join(runs, "pytorch_mnist", "model.safetensors")), "mnist: model.safetensors written")
    state, _ = tu.load_safetensors(os.path.join(runs, "pytorch_mnist", "model.safetensors"))
    net = original_class("mnist_main.py", "Net")()
    net.load_state_dict(state, strict=True)  # raises on any missing, unexpected or mis-shaped tensor
    net.eval()
    with torch.no_grad():
        x = (torch.from_numpy(test_images).unsqueeze(1) - 0.1307) / 0.3081
        out = net(x)
        loss = F.nll_loss(out, torch.from_numpy(test_labels), reduction="sum").item() / len(test_labels)
        correct = (out.argmax(dim=1) == torch.from_numpy(test_labels)).sum().item()
    port_loss, port_accuracy = epochs[-1]["test_loss"], epochs[-1]["test_accuracy"]
    # log-probabilities near 0 carry float's absolute rounding (about 1e-7 each), not a relative one
    check(abs(loss - port_loss) <= 1e-4 * abs(port_loss) + 2e-6,
          f"mnist: main.py's Net with the port's weights: test loss {loss:.8g}, the port's {port_loss:.8g}")
    check(correct == round(port_accuracy * len(test_labels)),
          f"mnist: main.py's Net with the port's weights: {correct} correct, the port {port_accuracy * len(test_labels):.0f}")

    # ---- vae/main.py ----
    run("pytorch_vae", *common, "--log-interval", "2")
    folder = os.path.join(runs, "pytorch_vae")
    with open(os.path.join(folder, "summary.json")) as f:
        summary = json.load(f)
    epochs = summary["epochs"]
    check(len(epochs) == 2 and epochs[1]["train_loss"] < epochs[0]["train_loss"],
          f"vae: the training loss falls ({[round(e['train_loss'], 2) for e in epochs]})")
    for name in ["model.safetensors", "sample_2.png", "reconstruction_2.png", "sample_2.npy", "reconstruction_2.npy"]:
        check(os.path.exists(os.path.join(folder, name)) and name in summary["files"], f"vae: {name} written and listed")
    state, _ = tu.load_safetensors(os.path.join(folder, "model.safetensors"))
    vae = original_class("vae_main.py", "VAE")()
    vae.load_state_dict(state, strict=True)
    vae.eval()
    with torch.no_grad():
        codes = torch.from_numpy(np.load(os.path.join(folder, "sample_2_codes.npy")))
        samples = torch.from_numpy(np.load(os.path.join(folder, "sample_2.npy")))
        err = (vae.decode(codes).view(-1, 1, 28, 28) - samples).abs().max().item()
        check(err <= 1e-5, f"vae: main.py's decode of the port's codes gives the port's samples (max error {err:.1e})")
        shown = torch.from_numpy(np.load(os.path.join(folder, "reconstruction_2.npy")))
        eps = torch.from_numpy(np.load(os.path.join(folder, "reconstruction_2_eps.npy")))
        n = eps.shape[0]
        check(torch.equal(shown[:n].view(n, 784), torch.from_numpy(test_images[:n]).view(n, 784)),
              "vae: the reconstruction figure starts with the first test images")
        mu, logvar = vae.encode(shown[:n].view(n, 784))
        recon = vae.decode(mu + eps * torch.exp(0.5 * logvar)).view(n, 1, 28, 28)
        err = (recon - shown[n:]).abs().max().item()
        check(err <= 1e-5, f"vae: main.py's encode and decode, with the port's noise, give the port's reconstructions "
                           f"(max error {err:.1e})")

    # ---- dcgan/main.py at 28 x 28 ----
    printed = run("pytorch_dcgan", *common, "--samples", "70")
    folder = os.path.join(runs, "pytorch_dcgan")
    with open(os.path.join(folder, "summary.json")) as f:
        summary = json.load(f)
    epochs = summary["epochs"]
    check(len(epochs) == 2 and epochs[1]["loss_d"] < epochs[0]["loss_d"] and epochs[1]["d_x"] > epochs[1]["d_g_z1"],
          f"dcgan: the discriminator's loss falls and it tells real from fake "
          f"({[(round(e['loss_d'], 3), round(e['d_x'], 3), round(e['d_g_z1'], 3)) for e in epochs]})")
    check("[1/2][9/10] Loss_D: " in printed and " D(G(z)): " in printed, "dcgan: prints as main.py does")
    for name in ["real_samples.png", "fixed_noise.npy", "fake_samples_epoch_1.png", "fake_samples_epoch_1.npy",
                 "samples_epoch_1.npy", "netG_epoch_1.safetensors", "netD_epoch_1.safetensors"]:
        check(os.path.exists(os.path.join(folder, name)) and name in summary["files"], f"dcgan: {name} written and listed")
    samples = np.load(os.path.join(folder, "samples_epoch_1.npy"))
    check(samples.shape == (70, 1, 28, 28) and samples.min() >= 0 and samples.max() <= 1,
          f"dcgan: 70 samples in [0, 1] for score ({samples.shape}, {samples.min():.3f} ... {samples.max():.3f})")
    sys.path.insert(0, originals)
    import dcgan_28  # noqa: E402
    with open(os.path.join(originals, "dcgan_main.py")) as f:
        generator_class, discriminator_class = dcgan_28.networks(f.read())
    netG, netD = generator_class(1), discriminator_class(1)
    netG.load_state_dict(tu.load_safetensors(os.path.join(folder, "netG_epoch_1.safetensors"))[0], strict=True)
    netD.load_state_dict(tu.load_safetensors(os.path.join(folder, "netD_epoch_1.safetensors"))[0], strict=True)
    with torch.no_grad():  # the original draws its figures with the generator in training mode
        netG.train()
        fake = netG(torch.from_numpy(np.load(os.path.join(folder, "fixed_noise.npy"))))
        err = (fake - torch.from_numpy(np.load(os.path.join(folder, "fake_samples_epoch_1.npy")))).abs().max().item()
        check(err <= 1e-5, f"dcgan: main.py's Generator with the port's weights draws the port's figure from its noise "
                           f"(max error {err:.1e})")
        netD.eval()
        scores = netD(fake)
        check(scores.shape == (64,) and bool(((scores > 0) & (scores < 1)).all()),
              "dcgan: main.py's Discriminator takes the port's weights and scores 64 images")

if failures:
    sys.exit(f"{len(failures)} check(s) failed")
print("pytorch ports: all checks passed")
