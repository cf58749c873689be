"""A checkpoint written by unetflow loads into the PyTorch module of the same structure with
load_state_dict(strict=True) and gives the same outputs.

    /usr/bin/python3 tests/python/interop_test.py BUILD/tests/unetflow_tests

Exits 77 (CTest's "skipped") when PyTorch is not installed.
"""
import os
import subprocess
import sys
import tempfile

try:
    import torch
except ImportError:
    print("interop test skipped: PyTorch is not installed (scripts/setup.sh --torch installs it)")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_unet as tu  # noqa: E402

tests_binary = sys.argv[1]
# What tests/module_test.cpp exports: <stem>.safetensors (the state) and <stem>_io.safetensors (inputs, outputs and
# gradients) for each module compared below.
stems = ["sequential", "resnet", "modres", "groupnet", "attention", "allnew", "standard"]
with tempfile.TemporaryDirectory() as d:
    env = dict(os.environ, UNETFLOW_INTEROP_DIR=d)
    subprocess.run([tests_binary, "-tc=interop export*,a model of every new block*"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    state, meta = tu.load_safetensors(os.path.join(d, "model.safetensors"))
    io, _ = tu.load_safetensors(os.path.join(d, "io.safetensors"))
    states = {stem: tu.load_safetensors(os.path.join(d, stem + ".safetensors"))[0] for stem in stems}
    ios = {stem: tu.load_safetensors(os.path.join(d, stem + "_io.safetensors"))[0] for stem in stems}

model = tu.UNet(1, 4, time=True, classes=10)
model.load_state_dict(state, strict=True)  # raises on any missing, unexpected or mis-shaped tensor
model.eval()
with torch.no_grad():
    y = model(io["x"], io["t"], io["c"])
err = (y - io["y_eval"]).abs().max().item() / io["y_eval"].abs().max().item()
print(f"checkpoint {meta.get('model')}: {len(state)} tensors loaded strictly; eval output relative max error {err:.2e}")
if err > 1e-4:
    sys.exit(f"interop: PyTorch's output differs from unetflow's by {err:.2e} (> 1e-4)")


def rel(ours, theirs):
    """Relative max error. The bias of a convolution that BatchNorm follows has a gradient of exactly zero in training
    mode, which both sides compute as rounding noise (1e-8 to 1e-6): such a tensor counts as agreeing (0) when both
    sides are that small, and as disagreeing (inf) when only one is."""
    if theirs.abs().max().item() < 1e-5:
        return 0.0 if ours.abs().max().item() < 1e-5 else float("inf")
    return (ours - theirs).abs().max().item() / theirs.abs().max().item()


def compare(name, ours, module, y, extra=()):
    """ours: unetflow's exports; y and the (name, tensor) pairs of extra: PyTorch's, beside its parameters' .grad."""
    errors = {"y": rel(ours["y"], y.detach())}
    for key, tensor in extra:
        errors[key] = rel(ours[key], tensor)
    for pname, p in module.named_parameters():
        errors["grad." + pname] = rel(ours["grad." + pname], p.grad)
    worst = max(errors, key=errors.get)
    params = sum(1 for k in errors if k.startswith("grad."))
    print(f"{name}: output, {', '.join(k for k, _ in extra)} and {params} parameter gradients agree with PyTorch, "
          f"worst relative max error {errors[worst]:.2e} ({worst})")
    if errors[worst] > 1e-4:
        sys.exit(f"interop: {name}'s {worst} differs from PyTorch's by {errors[worst]:.2e} (> 1e-4)")


def check_module(name, stem, module):
    """Strict loading of unetflow's state, then one training-mode forward and backward of L = sum(y * r)."""
    module.load_state_dict(states[stem], strict=True)  # raises on any missing, unexpected or mis-shaped tensor
    module.train()
    x = ios[stem]["x"].clone().requires_grad_(True)
    y = module(x)
    (y * ios[stem]["r"]).sum().backward()
    print(f"{name}: {len(states[stem])} tensors loaded strictly")
    compare(name, ios[stem], module, y, [("dx", x.grad)])


def conv_block(cin, cout, stride):
    return torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 3, stride, 1), torch.nn.BatchNorm2d(cout), torch.nn.GELU())


# ResBlocks (include/unetflow/blocks/res_block.hpp): y = b(a(x) [* scale + shift]) + proj(x), proj the identity when
# the channel counts agree.
class ResBlock(torch.nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.a = conv_block(cin, cout, 1)
        self.b = conv_block(cout, cout, 1)
        self.proj = torch.nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, scale=None, shift=None):
        h = self.a(x)
        if scale is not None:
            h = h * scale[:, :, None, None] + shift[:, :, None, None]
        return self.b(h) + (self.proj(x) if self.proj is not None else x)


# SelfAttention (include/unetflow/blocks/self_attention.hpp).
class SelfAttention(torch.nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.heads = heads
        self.qkv = torch.nn.Conv2d(c, 3 * c, 1)
        self.proj = torch.nn.Conv2d(c, c, 1)

    def forward(self, x):
        n, c, h, w = x.shape
        d = c // self.heads
        qkv = self.qkv(x).reshape(n, 3, self.heads, d, h * w)
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]
        a = torch.softmax(q.transpose(-1, -2) @ k / d ** 0.5, dim=-1)
        return x + self.proj((v @ a.transpose(-1, -2)).reshape(n, c, h, w))


# The equivalents of tests/module_test.cpp's Mixed, ResNet, GroupNet, AttentionNet, AllNew and StandardNet.
Seq, Flat, Lin, GELU = torch.nn.Sequential, torch.nn.Flatten, torch.nn.Linear, torch.nn.GELU
check_module("Sequential of mixed layers and blocks", "sequential",
             Seq(conv_block(2, 4, 1), conv_block(4, 4, 2), Flat(), Lin(36, 5), GELU(), Lin(5, 3)))
check_module("Sequential of ResBlocks", "resnet", Seq(ResBlock(2, 4), ResBlock(4, 4), Flat(), Lin(36 * 4, 3)))
check_module("Sequential with GroupNorm", "groupnet",
             Seq(torch.nn.Conv2d(2, 6, 3, 1, 1), torch.nn.GroupNorm(3, 6), GELU(), Flat(), Lin(6 * 36, 3)))
check_module("Sequential with SelfAttention", "attention",
             Seq(torch.nn.Conv2d(2, 4, 3, 1, 1), SelfAttention(4, 2), GELU(), Flat(), Lin(4 * 36, 3)))
check_module("the model of every new block", "allnew",
             Seq(ResBlock(2, 4), torch.nn.GroupNorm(2, 4), SelfAttention(4, 2), Flat(), Lin(4 * 36, 3)))

nn = torch.nn
check_module("Sequential of the standard layers", "standard",
             Seq(nn.Conv2d(2, 4, 3, 1, 1), nn.LayerNorm([4, 6, 6]), nn.LeakyReLU(), nn.MaxPool2d(2), nn.Dropout(0.0),
                 nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                 Seq(nn.Conv2d(4, 4, 3, 1, 1), nn.BatchNorm2d(4), nn.SiLU()), nn.AdaptiveAvgPool2d(1), Flat(),
                 Lin(4, 3), nn.Tanh()))

# A modulated ResBlock: its scale and shift inputs get gradients too.
block = ResBlock(3, 4)
block.load_state_dict(states["modres"], strict=True)
block.train()
mod = ios["modres"]
x, scale, shift = (mod[k].clone().requires_grad_(True) for k in ("x", "scale", "shift"))
y = block(x, scale, shift)
(y * mod["r"]).sum().backward()
compare("modulated ResBlock", mod, block, y, [("dx", x.grad), ("dscale", scale.grad), ("dshift", shift.grad)])
