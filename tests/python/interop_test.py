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
with tempfile.TemporaryDirectory() as d:
    env = dict(os.environ, UNETFLOW_INTEROP_DIR=d)
    subprocess.run([tests_binary, "-tc=interop export*,a model of every new block*"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    state, meta = tu.load_safetensors(os.path.join(d, "model.safetensors"))
    io, _ = tu.load_safetensors(os.path.join(d, "io.safetensors"))
    seq_state, _ = tu.load_safetensors(os.path.join(d, "sequential.safetensors"))
    seq_io, _ = tu.load_safetensors(os.path.join(d, "sequential_io.safetensors"))
    res_state, _ = tu.load_safetensors(os.path.join(d, "resnet.safetensors"))
    res_io, _ = tu.load_safetensors(os.path.join(d, "resnet_io.safetensors"))
    mod_state, _ = tu.load_safetensors(os.path.join(d, "modres.safetensors"))
    mod_io, _ = tu.load_safetensors(os.path.join(d, "modres_io.safetensors"))
    gn_state, _ = tu.load_safetensors(os.path.join(d, "groupnet.safetensors"))
    gn_io, _ = tu.load_safetensors(os.path.join(d, "groupnet_io.safetensors"))
    att_state, _ = tu.load_safetensors(os.path.join(d, "attention.safetensors"))
    att_io, _ = tu.load_safetensors(os.path.join(d, "attention_io.safetensors"))
    all_state, _ = tu.load_safetensors(os.path.join(d, "allnew.safetensors"))
    all_io, _ = tu.load_safetensors(os.path.join(d, "allnew_io.safetensors"))

model = tu.UNet(1, 4, time=True, classes=10)
model.load_state_dict(state, strict=True)  # raises on any missing, unexpected or mis-shaped tensor
model.eval()
with torch.no_grad():
    y = model(io["x"], io["t"], io["c"])
err = (y - io["y_eval"]).abs().max().item() / io["y_eval"].abs().max().item()
print(f"checkpoint {meta.get('model')}: {len(state)} tensors loaded strictly; eval output relative max error {err:.2e}")
if err > 1e-4:
    sys.exit(f"interop: PyTorch's output differs from unetflow's by {err:.2e} (> 1e-4)")


# A Sequential of mixed layers and blocks (tests/module_test.cpp's Mixed) against the equivalent nn.Sequential:
# strict loading, then one training-mode forward and backward of L = sum(y * r).
def conv_block(cin, cout, stride):
    return torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 3, stride, 1), torch.nn.BatchNorm2d(cout), torch.nn.GELU())


seq = torch.nn.Sequential(conv_block(2, 4, 1), conv_block(4, 4, 2), torch.nn.Flatten(), torch.nn.Linear(36, 5),
                          torch.nn.GELU(), torch.nn.Linear(5, 3))
seq.load_state_dict(seq_state, strict=True)
seq.train()
x = seq_io["x"].clone().requires_grad_(True)
y = seq(x)
(y * seq_io["r"]).sum().backward()


def rel(ours, theirs):
    """Relative max error. The bias of a convolution that BatchNorm follows has a gradient of exactly zero in training
    mode, which both sides compute as rounding noise (1e-8 to 1e-6): such a tensor counts as agreeing (0) when both
    sides are that small, and as disagreeing (inf) when only one is."""
    if theirs.abs().max().item() < 1e-5:
        return 0.0 if ours.abs().max().item() < 1e-5 else float("inf")
    return (ours - theirs).abs().max().item() / theirs.abs().max().item()


errors = {"y": rel(seq_io["y"], y.detach()), "dx": rel(seq_io["dx"], x.grad)}
for name, p in seq.named_parameters():
    errors["grad." + name] = rel(seq_io["grad." + name], p.grad)
worst = max(errors, key=errors.get)
print(f"Sequential: {len(seq_state)} tensors loaded strictly into nn.Sequential; output, input gradient and "
      f"{len(errors) - 2} parameter gradients agree, worst relative max error {errors[worst]:.2e} ({worst})")
if errors[worst] > 1e-4:
    sys.exit(f"interop: the Sequential's {worst} differs from PyTorch's by {errors[worst]:.2e} (> 1e-4)")


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


def compare(name, ours, module, inputs, extra=()):
    errors = {"y": rel(ours["y"], inputs["y"].detach())}
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


resnet = torch.nn.Sequential(ResBlock(2, 4), ResBlock(4, 4), torch.nn.Flatten(), torch.nn.Linear(36 * 4, 3))
resnet.load_state_dict(res_state, strict=True)
resnet.train()
x = res_io["x"].clone().requires_grad_(True)
y = resnet(x)
(y * res_io["r"]).sum().backward()
print(f"ResBlocks: {len(res_state)} tensors loaded strictly")
compare("Sequential of ResBlocks", res_io, resnet, {"y": y}, [("dx", x.grad)])

block = ResBlock(3, 4)
block.load_state_dict(mod_state, strict=True)
block.train()
x = mod_io["x"].clone().requires_grad_(True)
scale = mod_io["scale"].clone().requires_grad_(True)
shift = mod_io["shift"].clone().requires_grad_(True)
y = block(x, scale, shift)
(y * mod_io["r"]).sum().backward()
compare("modulated ResBlock", mod_io, block, {"y": y}, [("dx", x.grad), ("dscale", scale.grad), ("dshift", shift.grad)])

# GroupNorm (include/unetflow/layers/groupnorm.hpp) inside a Sequential.
groupnet = torch.nn.Sequential(torch.nn.Conv2d(2, 6, 3, 1, 1), torch.nn.GroupNorm(3, 6), torch.nn.GELU(),
                               torch.nn.Flatten(), torch.nn.Linear(6 * 36, 3))
groupnet.load_state_dict(gn_state, strict=True)
x = gn_io["x"].clone().requires_grad_(True)
y = groupnet(x)
(y * gn_io["r"]).sum().backward()
print(f"GroupNorm: {len(gn_state)} tensors loaded strictly into nn.Sequential")
compare("Sequential with GroupNorm", gn_io, groupnet, {"y": y}, [("dx", x.grad)])


# SelfAttention (include/unetflow/blocks/self_attention.hpp) inside a Sequential.
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


attnet = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, 1, 1), SelfAttention(4, 2), torch.nn.GELU(), torch.nn.Flatten(),
                             torch.nn.Linear(4 * 36, 3))
attnet.load_state_dict(att_state, strict=True)
x = att_io["x"].clone().requires_grad_(True)
y = attnet(x)
(y * att_io["r"]).sum().backward()
print(f"SelfAttention: {len(att_state)} tensors loaded strictly into nn.Sequential")
compare("Sequential with SelfAttention", att_io, attnet, {"y": y}, [("dx", x.grad)])

# Every new block in one model.
allnew = torch.nn.Sequential(ResBlock(2, 4), torch.nn.GroupNorm(2, 4), SelfAttention(4, 2), torch.nn.Flatten(),
                             torch.nn.Linear(4 * 36, 3))
allnew.load_state_dict(all_state, strict=True)
allnew.train()
x = all_io["x"].clone().requires_grad_(True)
y = allnew(x)
(y * all_io["r"]).sum().backward()
print(f"ResBlock + GroupNorm + SelfAttention: {len(all_state)} tensors loaded strictly into nn.Sequential")
compare("the model of every new block", all_io, allnew, {"y": y}, [("dx", x.grad)])
