"""Side-by-side training-step throughput: unetflow's bench_step against the PyTorch reference, in one run.

    /usr/bin/python3 benchmarks/compare_pytorch.py [--build build] [--threads 2] [--torch-ref PATH]

Runs ../shared/reference/torch_ref.py speed (PyTorch, same configurations, same thread count) and
build/benchmarks/bench_step, then prints images/s of both and the ratio. Absolute figures drift on shared
machines; the ratio from one run is what to quote. Needs python3-torch and libopenblas0 (scripts/setup.sh --torch).
"""
import argparse
import json
import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--build", default=os.path.join(root, "build"))
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--steps", type=int, default=3)
ap.add_argument("--torch-ref", default=os.path.join(root, "..", "shared", "reference", "torch_ref.py"))
a = ap.parse_args()

if not os.path.exists(a.torch_ref):
    sys.exit(f"compare_pytorch: the PyTorch reference {a.torch_ref} does not exist; pass --torch-ref PATH.")
bench = os.path.join(a.build, "benchmarks", "bench_step")
if not os.path.exists(bench):
    sys.exit(f"compare_pytorch: {bench} does not exist; build with scripts/test.sh first.")

env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
print(f"PyTorch reference ({a.threads} threads)...", flush=True)
ref = subprocess.run([sys.executable, a.torch_ref, "speed", "--threads", str(a.threads), "--steps", str(a.steps)],
                     check=True, capture_output=True, text=True).stdout
torch_ips = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\S+): \d+ ms/step, ([\d.]+) images/s", ref, re.M)}
print(f"unetflow bench_step ({a.threads} threads)...", flush=True)
out = subprocess.run([bench, "--benchmark_format=json"], check=True, capture_output=True, text=True, env=env).stdout
ours = {b["name"].split("/")[0]: b for b in json.loads(out)["benchmarks"]}

print(f"\n{'configuration':<22} {'PyTorch img/s':>14} {'unetflow img/s':>15} {'ratio':>7} {'unetflow GFLOP/s':>17}")
for name, tips in torch_ips.items():
    b = ours.get(name)
    if not b:
        continue
    print(f"{name:<22} {tips:>14.1f} {b['images/s']:>15.1f} {b['images/s'] / tips:>6.2f}x {b['GFLOP/s']:>17.1f}")
