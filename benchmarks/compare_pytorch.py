"""unetflow against the PyTorch reference on this machine, every figure of issue #6 from one run.

    /usr/bin/python3 benchmarks/compare_pytorch.py [--build build] [--threads 2] [--torch-ref PATH] [--skip-scaling]
    /usr/bin/python3 benchmarks/compare_pytorch.py --layers [--build build] [--threads 2]

Runs benchmarks/torch_steps.py (PyTorch's training steps and sampling of the same models) and
build/benchmarks/bench_step with the same thread count, then prints, each with the ratio:
  - training-step images/s of the three SPEC configurations,
  - the step's GFLOP/s as a share of the machine's SGEMM rate (n = 2048, measured in the same run),
  - CFG sampling time (40 digits, T = 50, D = 64, both passes as one batch),
  - peak resident memory of the D=128 / batch-256 step (build/benchmarks/step_memory against the peak RSS of the
    PyTorch process, whose largest configuration is that one),
  - the speed-up of the time-conditioned step from 1 thread to --threads.
--layers instead compares the standard layers (build/benchmarks/bench_layers against torch_steps.py layers): time
per pass and its ratio, the element-wise layers' GB/s against a plain copy of the same bytes (and the pooling and
up-sampling passes' against the simplest loop over the same streams), and the fused ReLU ConvBn block against the GELU
one.
Absolute figures drift on shared machines; the ratios from one run are what to quote.
Needs python3-torch and libopenblas0 (scripts/setup.sh --torch).
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--build", default=os.path.join(root, "build"))
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--steps", type=int, default=3)
ap.add_argument("--torch-ref", default=os.path.join(root, "benchmarks", "torch_steps.py"),
                help="the PyTorch side (default: benchmarks/torch_steps.py)")
ap.add_argument("--skip-scaling", action="store_true", help="do not time the 1-thread step")
ap.add_argument("--layers", action="store_true", help="compare the standard layers instead of the training steps")
a = ap.parse_args()

if not os.path.exists(a.torch_ref):
    sys.exit(f"compare_pytorch: the PyTorch reference {a.torch_ref} does not exist; pass --torch-ref PATH.")


def compare_layers():
    layers_bin = os.path.join(a.build, "benchmarks", "bench_layers")
    if not os.path.exists(layers_bin):
        sys.exit(f"compare_pytorch: {layers_bin} does not exist; build it with: cmake --build {a.build} --target bench_layers")
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    print(f"PyTorch reference, standard layers ({a.threads} threads)...", flush=True)
    ref = subprocess.run([sys.executable, a.torch_ref, "layers", "--threads", str(a.threads)], check=True,
                         capture_output=True, text=True, env=env).stdout
    torch_ms = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\S+): ([\d.]+) ms", ref, re.M)}
    # pooling and up-sampling passes beside the simplest loop over the same streams (bench_layers' streams_*)
    bounds = {"maxpool2_D_28/forward": "streams_pool_forward_D_28", "maxpool2_D_28/backward": "streams_pool_backward_D_28",
              "upsample_nearest_D_14/forward": "streams_upsample_forward_D_28",
              "upsample_bilinear_D_14/forward": "streams_upsample_forward_D_28",
              "upsample_nearest_D_14/backward": "streams_pool_forward_D_28",
              "upsample_bilinear_D_14/backward": "streams_pool_forward_D_28"}
    names = sorted({n.split("/")[0] for n in torch_ms} | {"copy_D_28"} | set(bounds.values()))
    print(f"unetflow bench_layers ({a.threads} threads)...", flush=True)
    # medians of repetitions on both sides (torch_steps.timed): one timing on a shared machine is noise. Ours are
    # interleaved at random across the cases, so that a slow phase of the machine falls on the copy and on the
    # passes set against it alike (five back-to-back repetitions put one pass at 49 % of the copy, interleaved 93 %)
    out = subprocess.run([layers_bin, "--benchmark_format=json", "--benchmark_filter=^(" + "|".join(names) + ")",
                          "--benchmark_repetitions=9", "--benchmark_enable_random_interleaving=true",
                          "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True, env=env).stdout
    ours = {b["run_name"].split("/min_time")[0]: b for b in json.loads(out)["benchmarks"]
            if b.get("aggregate_name") == "median"}
    copy_gbs = ours["copy_D_28"]["GB/s"]
    print(f"\n{'case':<40} {'PyTorch ms':>11} {'unetflow ms':>12} {'ratio':>7} {'GB/s':>7} {'of copy':>8} "
          f"{'of streams':>10}")
    for name, tms in torch_ms.items():
        b = ours.get(name)
        if not b:
            continue
        ms = b["real_time"]
        gbs = b.get("GB/s")
        extra = f" {gbs:>7.1f} {100 * gbs / copy_gbs:>7.0f}%" if gbs else ""
        if gbs and name in bounds:
            extra += f" {100 * gbs / ours[bounds[name]]['GB/s']:>9.0f}%"
        print(f"{name:<40} {tms:>11.3f} {ms:>12.3f} {tms / ms:>6.2f}x{extra}")
    print(f"copy of a D=128 28x28 batch (the memory bandwidth): {copy_gbs:.1f} GB/s")
    for bound in sorted(set(bounds.values())):
        print(f"{bound} (the simplest loop over the same streams): {ours[bound]['GB/s']:.1f} GB/s "
              f"({100 * ours[bound]['GB/s'] / copy_gbs:.0f} % of the copy's)")
    gelu = ours["convbn_gelu_D_28/forward_backward"]["real_time"]
    relu = ours["convbn_relu_D_28/forward_backward"]["real_time"]
    print(f"fused ConvBn block, forward + backward: GELU {gelu:.2f} ms, ReLU {relu:.2f} ms (ReLU/GELU time {relu / gelu:.2f})")


if a.layers:
    compare_layers()
    sys.exit(0)

bench = os.path.join(a.build, "benchmarks", "bench_step")
memory = os.path.join(a.build, "benchmarks", "step_memory")
for program in (bench, memory):
    if not os.path.exists(program):
        sys.exit(f"compare_pytorch: {program} does not exist; build it with: cmake --build {a.build} --target bench_step step_memory")


def run(cmd, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def bench_step(threads, pattern):
    out = run([bench, "--benchmark_format=json", f"--benchmark_filter={pattern}"], threads)
    return {b["name"].split("/")[0]: b for b in json.loads(out)["benchmarks"]}


print(f"PyTorch reference, training steps ({a.threads} threads)...", flush=True)
ref = run([sys.executable, a.torch_ref, "speed", "--threads", str(a.threads), "--steps", str(a.steps)], a.threads)
torch_peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9
torch_ips = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\S+): \d+ ms/step, ([\d.]+) images/s", ref, re.M)}
print("PyTorch reference, CFG sampling...", flush=True)
ref_sample = run([sys.executable, a.torch_ref, "sample", "--threads", str(a.threads)], a.threads)
torch_sample_s = float(re.search(r"cfg_sample_40_T50_D64: ([\d.]+) s", ref_sample).group(1))

print(f"unetflow bench_step ({a.threads} threads)...", flush=True)
ours = bench_step(a.threads, ".")
print("unetflow step_memory...", flush=True)
mem_line = run([memory, "1000"], a.threads)
our_peak_gb = float(re.search(r"peak RSS ([\d.]+) GB", mem_line).group(1))
sgemm = ours["sgemm_2048"]["GFLOP/s"]

print(f"\n{'configuration':<22} {'PyTorch img/s':>14} {'unetflow img/s':>15} {'ratio':>7} {'GFLOP/s':>8} {'of SGEMM':>9}")
for name, tips in torch_ips.items():
    b = ours.get(name)
    if not b:
        continue
    print(f"{name:<22} {tips:>14.1f} {b['images/s']:>15.1f} {b['images/s'] / tips:>6.2f}x {b['GFLOP/s']:>8.1f} "
          f"{100 * b['GFLOP/s'] / sgemm:>8.0f}%")
print(f"SGEMM n=2048 through cpu::gemm ({a.threads} threads): {sgemm:.1f} GFLOP/s")
sample_s = ours["cfg_sample_40_T50_D64"]["real_time"] / 1000
print(f"CFG sampling, 40 digits, T=50, D=64: PyTorch {torch_sample_s:.2f} s, unetflow {sample_s:.2f} s, "
      f"{torch_sample_s / sample_s:.2f}x faster")
print(f"peak RSS of the D=128 / batch-256 step: PyTorch {torch_peak_gb:.2f} GB, unetflow {our_peak_gb:.2f} GB "
      f"({our_peak_gb / torch_peak_gb:.2f} of PyTorch's)")
if not a.skip_scaling and a.threads > 1:
    one = bench_step(1, "fm_time_D64_B64")["fm_time_D64_B64"]["images/s"]
    many = ours["fm_time_D64_B64"]["images/s"]
    print(f"thread scaling, fm_time_D64_B64: 1 thread {one:.1f} img/s, {a.threads} threads {many:.1f} img/s, "
          f"{many / one:.2f}x")
