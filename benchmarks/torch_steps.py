"""The PyTorch side of the speed comparison (compare_pytorch.py): the same UNets as unetflow's (the parity fixtures'
module, tests/python/torch_unet.py) and the same training steps and sampling as bench_step times.

    /usr/bin/python3 benchmarks/torch_steps.py speed  [--threads N] [--steps K]   training steps, images/s per configuration
    /usr/bin/python3 benchmarks/torch_steps.py sample [--threads N]               CFG sampling: 40 digits, T = 50, gamma 5, D = 64
    /usr/bin/python3 benchmarks/torch_steps.py layers [--threads N]               the standard layers, bench_layers' cases

A step: fixed random images x1 in [0, 1); fresh noise (and t, one-hot c) each step; forward, MSE, backward, Adam. The
denoiser learns x from x + 0.5 eps; the flow models the velocity x1 - x0 at xt = (1 - t) x0 + t x1. Sampling batches
the conditional and unconditional passes as one (evaluation mode, no gradients). Needs Debian's python3-torch.
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
from torch_unet import UNet  # noqa: E402

# name: (hidden width D, batch, time-conditioned, classes, Adam learning rate); the names are bench_step's.
CONFIGS = {
    "denoiser_D128_B256": (128, 256, False, 0, 1e-4),
    "fm_time_D64_B64": (64, 64, True, 0, 1e-2),
    "fm_class_D64_B64": (64, 64, True, 10, 1e-2),
}


def training_step(name):
    width, batch, timed, classes, lr = CONFIGS[name]
    torch.manual_seed(0)
    model = UNet(1, width, timed, classes)
    adam = torch.optim.Adam(model.parameters(), lr=lr)
    x1 = torch.rand(batch, 1, 28, 28)

    def step():
        noise = torch.randn_like(x1)
        if timed:
            t = torch.rand(batch, 1)
            tt = t[:, :, None, None]
            c = F.one_hot(torch.randint(0, 10, (batch,)), 10).float() if classes else None
            loss = F.mse_loss(model((1 - tt) * noise + tt * x1, t, c), x1 - noise)
        else:
            loss = F.mse_loss(model(x1 + 0.5 * noise), x1)
        adam.zero_grad(set_to_none=True)
        loss.backward()
        adam.step()
        return loss.item()

    return batch, step


def speed(steps, configs):
    for name in configs:
        batch, step = training_step(name)
        step()  # warm-up: allocations, OpenBLAS's buffers
        start = time.perf_counter()
        for _ in range(steps):
            step()
        seconds = (time.perf_counter() - start) / steps
        print(f"{name}: {seconds * 1000:.0f} ms/step, {batch / seconds:.1f} images/s (threads={torch.get_num_threads()})",
              flush=True)


def sample():
    torch.manual_seed(0)
    model = UNet(1, 64, True, 10).eval()
    n, steps, gamma = 40, 50, 5.0
    wanted = F.one_hot(torch.arange(n) % 10, 10).float()
    both = torch.cat([wanted, torch.zeros_like(wanted)])
    with torch.inference_mode():
        for _ in range(2):  # the first is a warm-up
            x = torch.randn(n, 1, 28, 28)
            start = time.perf_counter()
            for i in range(steps):
                u = model(torch.cat([x, x]), torch.full((2 * n, 1), i / steps), both)
                x = x + (u[n:] + gamma * (u[:n] - u[n:])) / steps
            seconds = time.perf_counter() - start
    print(f"cfg_sample_40_T50_D64: {seconds:.2f} s (threads={torch.get_num_threads()})")


# bench_layers' standard-set cases: name -> (module, input shape (batch 64)); "/forward" and "/backward" of a layer
# are timed apart (backward replays the retained graph), a block as "/forward" and "/forward_backward".
def layer_cases():
    nn = torch.nn
    D = 128
    return {
        "relu_D_28": (nn.ReLU(), (64, D, 28, 28)),
        "leaky_relu_D_28": (nn.LeakyReLU(), (64, D, 28, 28)),
        "silu_D_28": (nn.SiLU(), (64, D, 28, 28)),
        "maxpool2_D_28": (nn.MaxPool2d(2), (64, D, 28, 28)),
        "upsample_nearest_D_14": (nn.Upsample(scale_factor=2, mode="nearest"), (64, D, 14, 14)),
        "upsample_bilinear_D_14": (nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), (64, D, 14, 14)),
        "adaptive_avgpool_D_28": (nn.AdaptiveAvgPool2d(1), (64, D, 28, 28)),
        "layernorm_D_28": (nn.LayerNorm([D, 28, 28]), (64, D, 28, 28)),
        "dropout_D_28": (nn.Dropout(0.5), (64, D, 28, 28)),
    }, {
        "convbn_gelu_D_28": (nn.Sequential(nn.Conv2d(D, D, 3, 1, 1), nn.BatchNorm2d(D), nn.GELU()), (64, D, 28, 28)),
        "convbn_relu_D_28": (nn.Sequential(nn.Conv2d(D, D, 3, 1, 1), nn.BatchNorm2d(D), nn.ReLU()), (64, D, 28, 28)),
        # PyTorch's MNIST example (examples/pytorch/mnist.cpp): its second convolution, and its whole network
        "mnist_conv2_26": (nn.Conv2d(32, 64, 3), (64, 32, 26, 26)),
        "mnist_net": (nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                                    nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
                                    nn.Linear(128, 10), nn.LogSoftmax(dim=1)), (64, 1, 28, 28)),
    }


def timed(f, min_seconds=0.3, repetitions=5):
    """ms per call: the median of `repetitions` means, each over at least min_seconds (as bench_layers reports)."""
    f()
    means = []
    for _ in range(repetitions):
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < min_seconds or runs < 3:
            f()
            runs += 1
        means.append((time.perf_counter() - start) / runs * 1000)
    return statistics.median(means)


def layers():
    layer_set, blocks = layer_cases()
    torch.manual_seed(0)
    for name, (m, shape) in layer_set.items():
        m.train()
        x = torch.randn(shape, requires_grad=True)
        with torch.no_grad():
            print(f"{name}/forward: {timed(lambda: m(x)):.3f} ms", flush=True)
        y = m(x)
        dy = torch.randn_like(y)
        print(f"{name}/backward: {timed(lambda: torch.autograd.grad(y, x, dy, retain_graph=True)):.3f} ms", flush=True)
    for name, (m, shape) in blocks.items():
        m.train()
        x = torch.randn(shape, requires_grad=True)
        with torch.no_grad():
            print(f"{name}/forward: {timed(lambda: m(x)):.3f} ms", flush=True)
        dy = torch.randn_like(m(x))

        def step():
            m.zero_grad(set_to_none=True)
            m(x).backward(dy)

        print(f"{name}/forward_backward: {timed(step):.3f} ms", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["speed", "sample", "layers"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    a = ap.parse_args()
    if a.threads < 1:
        sys.exit(f"torch_steps: --threads {a.threads}: give at least 1.")
    unknown = [c for c in a.configs.split(",") if c not in CONFIGS]
    if unknown:
        sys.exit(f"torch_steps: --configs: {', '.join(unknown)} is not one of {', '.join(CONFIGS)}.")
    torch.set_num_threads(a.threads)
    if a.what == "sample":
        sample()
    elif a.what == "layers":
        layers()
    else:
        speed(a.steps, a.configs.split(","))


if __name__ == "__main__":
    main()
