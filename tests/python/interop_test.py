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
    subprocess.run([tests_binary, "-tc=interop export*"], check=True, env=env, stdout=subprocess.DEVNULL)
    state, meta = tu.load_safetensors(os.path.join(d, "model.safetensors"))
    io, _ = tu.load_safetensors(os.path.join(d, "io.safetensors"))

model = tu.UNet(1, 4, time=True, classes=10)
model.load_state_dict(state, strict=True)  # raises on any missing, unexpected or mis-shaped tensor
model.eval()
with torch.no_grad():
    y = model(io["x"], io["t"], io["c"])
err = (y - io["y_eval"]).abs().max().item() / io["y_eval"].abs().max().item()
print(f"checkpoint {meta.get('model')}: {len(state)} tensors loaded strictly; eval output relative max error {err:.2e}")
if err > 1e-4:
    sys.exit(f"interop: PyTorch's output differs from unetflow's by {err:.2e} (> 1e-4)")
