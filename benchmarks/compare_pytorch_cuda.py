"""unetflow's CUDA backend against PyTorch on the same GPU, in one run (scripts/device-check.sh calls it).

    python3 benchmarks/compare_pytorch_cuda.py --bench build-device/benchmarks/bench_cuda [--data DIR] [--steps 30]

PyTorch runs the same UNets (tests/python/torch_unet.py) through the same training step: noise drawn for the
batch, forward, MSE, backward, Adam; FP32 (TF32 off in cuBLAS and cuDNN), then with TF32 allowed. Prints
images/s of PyTorch and of unetflow on each convolution engine (im2col; cuDNN where built), with the ratios,
for each SPEC configuration, the CFG sampling time (40 digits, T = 50, D = 64,
both passes as one batch), and with --data, last, the training time of the SPEC's 5-epoch D=128 denoiser run.
"""
import argparse
import os
import re
import subprocess
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(root, "tests", "python"))

ap = argparse.ArgumentParser()
ap.add_argument("--bench", required=True, help="the bench_cuda program")
ap.add_argument("--data", default="", help="MNIST directory: also time the 5-epoch D=128 denoiser run")
ap.add_argument("--steps", type=int, default=30)
a = ap.parse_args()


def run_bench(args):
    """Runs bench_cuda, its lines streamed as they are printed (a timeout keeps what was measured before it)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([a.bench] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    proc.wait()
    print(f"(bench_cuda: exit {proc.returncode}, {time.perf_counter() - t0:.0f} s)", flush=True)
    figures = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\S+): ([\d.]+) ", "".join(lines), re.M)}
    return figures, proc.returncode


# unetflow's figures first: a PyTorch that does not import or sees no GPU must not lose them.
ours, rc = run_bench(["--steps", str(a.steps)])
try:
    import torch
    import torch.nn.functional as F
    from torch_unet import UNet
except ImportError as e:
    print(f"compare_pytorch_cuda: PyTorch does not import ({e}); unetflow's figures above stand alone.")
    sys.exit(rc or 1)
if not torch.cuda.is_available():
    print("compare_pytorch_cuda: PyTorch sees no GPU here; unetflow's figures above stand alone.")
    sys.exit(rc or 1)
dev = torch.device("cuda")

CONFIGS = [  # name, D, time, classes, batch, lr
    ("denoiser_D128_B256", 128, False, 0, 256, 1e-4),
    ("fm_time_D64_B64", 64, True, 0, 64, 1e-2),
    ("fm_class_D64_B64", 64, True, 10, 64, 1e-2),
]


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def torch_rate(D, time_cond, classes, batch, lr, steps):
    torch.manual_seed(0)
    m = UNet(1, D, time_cond, classes).to(dev)
    opt = torch.optim.Adam(m.parameters(), lr=lr)
    x1 = torch.rand(batch, 1, 28, 28, device=dev)
    labels = torch.randint(0, 10, (batch,), device=dev)

    def step():
        x0 = torch.randn_like(x1)
        if time_cond:
            t = torch.rand(batch, 1, device=dev)
            xt = (1 - t[:, :, None, None]) * x0 + t[:, :, None, None] * x1
            c = F.one_hot(labels, 10).float() * (torch.rand(batch, 1, device=dev) >= 0.1) if classes else None
            loss = F.mse_loss(m(xt, t, c), x1 - x0)
        else:
            loss = F.mse_loss(m(x1 + 0.5 * x0), x1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()  # read back every step, as unetflow's trainer does

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - t0)


@torch.no_grad()
def torch_sampling():
    torch.manual_seed(0)
    m = UNet(1, 64, True, 10).to(dev).eval()
    labels = torch.arange(10, device=dev).repeat_interleave(4)
    c = torch.cat([F.one_hot(labels, 10).float(), torch.zeros(40, 10, device=dev)])

    def run():
        x = torch.randn(40, 1, 28, 28, device=dev)
        for i in range(50):
            t = torch.full((80, 1), i / 50, device=dev)
            u = m(torch.cat([x, x]), t, c)
            x = x + (u[40:] + 5.0 * (u[:40] - u[40:])) / 50
        return x

    run()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    run()
    torch.cuda.synchronize()
    return time.perf_counter() - t0


print(f"device: {torch.cuda.get_device_name(0)}, PyTorch {torch.__version__}", flush=True)


def cell(mine, theirs):
    return f"{(mine or float('nan')):>12.1f}{(f'{mine / theirs:.2f}x' if mine else 'n/a'):>8}"


print(f"\n{'configuration':<24}{'PyTorch img/s':>15}{'im2col img/s':>12}{'ratio':>8}{'cuDNN img/s':>12}{'ratio':>8}")
for tf32 in (False, True):
    set_tf32(tf32)
    suffix = "_tf32" if tf32 else ""
    for name, D, tc, classes, batch, lr in CONFIGS:
        theirs = torch_rate(D, tc, classes, batch, lr, a.steps)
        print(f"{name + suffix:<24}{theirs:>15.1f}{cell(ours.get(name + suffix), theirs)}"
              f"{cell(ours.get(name + suffix + '_cudnn'), theirs)}", flush=True)
set_tf32(False)
ts = torch_sampling()
mine = ours.get("cfg_sample_40_T50_D64")
print(f"CFG sampling, 40 digits, T=50, D=64: PyTorch {ts:.3f} s, unetflow "
      + (f"{mine:.3f} s, {ts / mine:.2f}x faster" if mine else "n/a"))
# The 5-epoch run last: the longest stage, so that a time limit cuts nothing else.
if a.data:
    steps_5_epochs = 5 * ((60000 + 255) // 256)
    rate = torch_rate(128, False, 0, 256, 1e-4, a.steps)
    print(f"PyTorch at its D=128 step rate would need {steps_5_epochs * 256 / rate:.1f} s for the SPEC's 5-epoch "
          "denoiser run; unetflow's run:", flush=True)
    full, rc_full = run_bench(["--data", a.data, "--full-run-only"])
    rc = rc or rc_full
    mine = full.get("denoiser_D128_5_epochs_training")
    print(f"SPEC 5-epoch D=128 denoiser run: unetflow {mine} s of training (target <= 30 s)")
sys.exit(rc)
