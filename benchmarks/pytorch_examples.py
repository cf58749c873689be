"""PyTorch's own examples against their unetflow ports, on this machine: accuracy (or loss) after each epoch over
several seeds, and training images per second.

    /usr/bin/python3 benchmarks/pytorch_examples.py mnist [--epochs 3] [--seeds 1 2 3] [--threads 2] [--data data/mnist]
    /usr/bin/python3 benchmarks/pytorch_examples.py vae [--epochs 10] ...
    add --json FILE to keep every figure, --only original|port to run one side, --run-folder DIR to write the
    comparison as a run folder (DIR/summary.json, and for the VAE the original's last figures) for the site (report).

The originals are pytorch/examples' files at 37a1866 (benchmarks/pytorch_examples/, BSD licence there), run
unchanged apart from the data path: the MNIST files of --data are laid out as torchvision's datasets.MNIST expects
(MNIST/raw/ in a temporary folder) and main.py's '../data' points there. Each runs in its own process with
torch.set_num_threads(--threads); its train() is wrapped to time each epoch (data loading included, as it is part of
the original's epoch), and its printed test results are read back. The ports are build/examples/pytorch_<name>,
run with the same settings and --threads. Both sides run with OMP_WAIT_POLICY=active unless the environment sets
it (a benchmark wants the machine to itself; the programs' own default, passive, yields the cores between kernels:
docs/library.md, "Threads"). Needs python3-torch and python3-torchvision (scripts/setup.sh --torch).
"""
import argparse
import contextlib
import gzip
import io
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
originals = os.path.join(root, "benchmarks", "pytorch_examples")
FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def torchvision_layout(data, into):
    """into/MNIST/raw/<the four files>, uncompressed, from --data (raw or .gz files)."""
    raw = os.path.join(into, "MNIST", "raw")
    os.makedirs(raw)
    for name in FILES:
        plain, packed = os.path.join(data, name), os.path.join(data, name + ".gz")
        if os.path.exists(plain):
            os.symlink(os.path.abspath(plain), os.path.join(raw, name))
        elif os.path.exists(packed):
            with gzip.open(packed, "rb") as src, open(os.path.join(raw, name), "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            sys.exit(f"pytorch_examples: {data} has neither {name} nor {name}.gz (scripts/fetch_mnist.sh fetches MNIST)")
    return into


def run_original(example, args):
    """In this (child) process: the original's code with the data path replaced; prints one JSON line of results."""
    import torch
    torch.set_num_threads(args.threads)
    source_path = os.path.join(originals, f"{example}_main.py")
    with open(source_path) as f:
        source = f.read()
    with tempfile.TemporaryDirectory() as tmp:
        data_root = torchvision_layout(args.data, tmp)
        if "'../data'" not in source:
            sys.exit(f"pytorch_examples: {source_path} no longer reads '../data'")
        source = source.replace("'../data'", repr(data_root))
        seconds, printed = [], io.StringIO()
        if example == "mnist":
            sys.argv = ["main.py", "--epochs", str(args.epochs), "--seed", str(args.seed)]
            ns = {"__name__": "mnist_original"}
            exec(compile(source, source_path, "exec"), ns)
            ns["train"] = timed(ns["train"], seconds)
            with contextlib.redirect_stdout(printed):
                ns["main"]()
            results = [{"test_loss": float(l), "test_accuracy": int(c) / int(n)}
                       for l, c, n in re.findall(r"Test set: Average loss: ([0-9.]+), Accuracy: (\d+)/(\d+)",
                                                 printed.getvalue())]
        else:  # vae: module-level code; the loop under __main__ is main.py's last five lines, run here
            os.makedirs(os.path.join(tmp, "results"))
            os.chdir(tmp)  # its PNGs go to results/
            sys.argv = ["main.py", "--epochs", str(args.epochs), "--seed", str(args.seed)]
            ns = {"__name__": "vae_original"}
            with contextlib.redirect_stdout(printed):
                exec(compile(source, source_path, "exec"), ns)
                train = timed(ns["train"], seconds)
                for epoch in range(1, args.epochs + 1):
                    train(epoch)
                    ns["test"](epoch)
                    with torch.no_grad():
                        sample = torch.randn(64, 20).to(ns["device"])
                        sample = ns["model"].decode(sample).cpu()
                        ns["save_image"](sample.view(64, 1, 28, 28), "results/sample_" + str(epoch) + ".png")
            results = [{"test_loss": float(l)} for l in re.findall(r"Test set loss: ([0-9.]+)", printed.getvalue())]
            if args.keep:
                for name in (f"sample_{args.epochs}.png", f"reconstruction_{args.epochs}.png"):
                    shutil.copyfile(os.path.join(tmp, "results", name), os.path.join(args.keep, "original_" + name))
    images = 60000
    for r, s in zip(results, seconds):
        r.update(train_seconds=s, train_images_per_second=images / s)
    print(json.dumps(results))


def timed(function, seconds):
    def wrapper(*a, **k):
        start = time.perf_counter()
        out = function(*a, **k)
        seconds.append(time.perf_counter() - start)
        return out
    return wrapper


def environment(args):
    return dict(os.environ, OMP_NUM_THREADS=str(args.threads),
                OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY") or "active")


def original(example, args, seed, keep=None):
    env = environment(args)
    out = subprocess.run([sys.executable, os.path.abspath(__file__), example, "--child", "--seed", str(seed),
                          "--epochs", str(args.epochs), "--threads", str(args.threads), "--data", args.data]
                         + (["--keep", keep] if keep else []),
                         check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def port(example, args, seed, keep=None):
    program = os.path.join(args.build, "examples", f"pytorch_{example}")
    if not os.path.exists(program):
        sys.exit(f"pytorch_examples: no {program}: build it first (cmake --build {args.build} --target pytorch_{example})")
    with tempfile.TemporaryDirectory() as runs:
        subprocess.run([program, "--epochs", str(args.epochs), "--seed", str(seed), "--threads", str(args.threads),
                        "--data", args.data, "--runs", runs, "--name", "run", "--device", "cpu"],
                       check=True, stdout=subprocess.DEVNULL, env=environment(args))
        with open(os.path.join(runs, "run", "summary.json")) as f:
            return json.load(f)["epochs"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("example", choices=["mnist", "vae"])
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default=os.path.join(root, "data", "mnist"))
    ap.add_argument("--build", default=os.path.join(root, "build"))
    ap.add_argument("--json", help="write every figure here")
    ap.add_argument("--only", choices=["original", "port"])
    ap.add_argument("--run-folder", help="write the comparison here as a run folder (summary.json) for the site")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--keep", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.epochs is None:
        args.epochs = 3 if args.example == "mnist" else 10
    if args.epochs < 1 or args.threads < 1 or not args.seeds:
        sys.exit("pytorch_examples: --epochs and --threads must be at least 1, and --seeds must name a seed")
    if args.child:
        return run_original(args.example, args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill cleans up as an interrupt does
    figures = {"example": args.example, "epochs": args.epochs, "threads": args.threads, "original": {}, "port": {}}
    staging = None
    if args.run_folder:  # written in full beside the folder, then put in its place: never half a run folder
        parent = os.path.dirname(os.path.abspath(args.run_folder))
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".pytorch_examples.", dir=parent)
    try:
        for seed in args.seeds:
            for side, runner in (("original", original), ("port", port)):
                if args.only and side != args.only:
                    continue
                print(f"{args.example}: {side}, seed {seed}, {args.epochs} epochs...", flush=True)
                keep = staging if side == "original" and seed == args.seeds[0] and args.example == "vae" else None
                figures[side][str(seed)] = runner(args.example, args, seed, keep)
    except BaseException:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    key = "test_accuracy" if args.example == "mnist" else "test_loss"
    rows = []
    print(f"\n{args.example}, {args.threads} threads, seeds {' '.join(map(str, args.seeds))}: {key} after each epoch "
          f"(mean over seeds), training images/s (median over seeds and epochs)")
    for epoch in range(args.epochs):
        row = f"epoch {epoch + 1:2d}"
        means = {}
        entry = {"epoch": epoch + 1}
        for side in ("original", "port"):
            values = [runs[epoch][key] for runs in figures[side].values() if len(runs) > epoch]
            if values:
                means[side] = statistics.mean(values)
                sd = statistics.stdev(values) if len(values) > 1 else 0.0
                entry.update({f"{side}_mean": means[side], f"{side}_sd": sd, f"{side}_values": values})
                scale = 100 if key == "test_accuracy" else 1
                row += f"   {side} {means[side] * scale:8.4f} ± {sd * scale:.4f}"
        rows.append(entry)
        if len(means) == 2:
            diff = means["port"] - means["original"]
            row += (f"   port - original {diff * 100:+.3f} points" if key == "test_accuracy"
                    else f"   port / original {means['port'] / means['original']:.4f}")
        print(row)
    speeds = {}
    for side in ("original", "port"):
        values = [e["train_images_per_second"] for runs in figures[side].values() for e in runs]
        if values:
            speeds[side] = statistics.median(values)
            print(f"{side:8s} training: {speeds[side]:8.1f} images/s")
    if len(speeds) == 2:
        print(f"port / original speed: {speeds['port'] / speeds['original']:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    if staging:
        import torch
        summary = {
            "program": f"benchmarks/pytorch_examples.py {args.example}",
            "config": {"command": " ".join(["benchmarks/pytorch_examples.py"] + sys.argv[1:]), "epochs": args.epochs,
                       "threads": args.threads, "seeds": args.seeds, "metric": key, "machine": cpu_name(),
                       "torch": torch.__version__},
            "epochs": rows,
            "speed": {f"{side}_images_per_second": v for side, v in speeds.items()},
            "files": {}}
        if len(speeds) == 2:
            summary["speed"]["ratio"] = speeds["port"] / speeds["original"]
        for name in sorted(os.listdir(staging)):
            what = "samples decoded from N(0, I) codes" if "sample" in name else \
                "the first 8 test digits (top) and their reconstructions (bottom)"
            summary["files"][name] = what + f", after epoch {args.epochs}, seed {args.seeds[0]}"
        with open(os.path.join(staging, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        if os.path.exists(args.run_folder):
            shutil.rmtree(args.run_folder)
        os.rename(staging, args.run_folder)
        print(f"written to {args.run_folder}/summary.json")


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip() + f", {os.cpu_count()} cores"
    except OSError:
        pass
    return "this machine"


if __name__ == "__main__":
    main()
