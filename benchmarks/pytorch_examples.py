"""PyTorch's own examples against their unetflow ports, on this machine: accuracy (or loss) after each epoch over
several seeds, and training images per second.

    /usr/bin/python3 benchmarks/pytorch_examples.py mnist [--epochs 3] [--seeds 1 2 3] [--threads 2] [--data data/mnist]
    /usr/bin/python3 benchmarks/pytorch_examples.py vae [--epochs 10] ...
    /usr/bin/python3 benchmarks/pytorch_examples.py dcgan --dataset fashion-mnist [--epochs 5] [--samples 1000] ...
    add --json FILE to keep every figure, --only original|port to run one side, --run-folder DIR to write the
    comparison as a run folder (DIR/summary.json, and for the VAE the original's last figures) for the site (report).

The originals are pytorch/examples' files at 37a1866 (benchmarks/pytorch_examples/, BSD licence there), run
unchanged apart from the data path (and DCGAN's networks at 28 x 28: dcgan_28.py, the one change the port shares): the MNIST files of --data are laid out as torchvision's datasets.MNIST expects
(MNIST/raw/ in a temporary folder) and main.py's '../data' points there. Each runs in its own process with
torch.set_num_threads(--threads); its train() is wrapped to time each epoch (data loading included, as it is part of
the original's epoch), and its printed test results are read back. The ports are build/examples/pytorch_<name>,
run with the same settings and --threads. Both sides run with OMP_WAIT_POLICY=active unless the environment sets
it (a benchmark wants the machine to itself; the programs' own default, passive, yields the cores between kernels:
docs/library.md, "Threads"). DCGAN is scored, after every epoch, by drawing --samples images from each side's
generator checkpoint with one PyTorch sampler (the generator in training mode, batches of 64, as the original draws
its figures) and giving them to build/examples/score (the data set's classifier: Frechet distance, class spread); the
original runs with --workers 0, so both sides train on --threads cores and nothing else.
Needs python3-torch and python3-torchvision (scripts/setup.sh --torch).
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
TORCHVISION_FOLDER = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
sys.path.insert(0, originals)
import dcgan_28  # noqa: E402


def torchvision_layout(data, into, folder="MNIST"):
    """into/<folder>/raw/<the four files>, uncompressed, from --data (raw or .gz files)."""
    raw = os.path.join(into, folder, "raw")
    os.makedirs(raw)
    for name in FILES:
        plain, packed = os.path.join(data, name), os.path.join(data, name + ".gz")
        if os.path.exists(plain):
            os.symlink(os.path.abspath(plain), os.path.join(raw, name))
        elif os.path.exists(packed):
            with gzip.open(packed, "rb") as src, open(os.path.join(raw, name), "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            sys.exit(f"pytorch_examples: {data} has neither {name} nor {name}.gz (scripts/fetch_mnist.sh fetches MNIST, "
                     "Debian's dataset-fashion-mnist Fashion-MNIST)")
    return into


def run_original(example, args):
    """In this (child) process: the original's code with the data path replaced; prints one JSON line of results."""
    import torch
    torch.set_num_threads(args.threads)
    source_path = os.path.join(originals, f"{example}_main.py")
    with open(source_path) as f:
        source = f.read()
    with tempfile.TemporaryDirectory() as tmp:
        seconds, printed = [], io.StringIO()
        if example == "dcgan":
            return run_dcgan_original(source, source_path, args, tmp, printed)
        data_root = torchvision_layout(args.data, tmp)
        if "'../data'" not in source:
            sys.exit(f"pytorch_examples: {source_path} no longer reads '../data'")
        source = source.replace("'../data'", repr(data_root))
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


def run_dcgan_original(source, source_path, args, tmp, printed):
    """DCGAN's module-level training at 28 x 28, its checkpoints into --outf; each epoch timed from its DataLoader's
    first batch to its netG checkpoint (torch.save), by wrapping the two, not by editing the loop."""
    import torch
    data_root = torchvision_layout(args.data, tmp, TORCHVISION_FOLDER[args.dataset])
    sys.argv = ["main.py", "--dataset", "mnist", "--dataroot", data_root, "--niter", str(args.epochs),
                "--manualSeed", str(args.seed), "--imageSize", "28", "--workers", "0", "--outf", args.outf]
    starts, ends = [], []
    loader_iter, save = torch.utils.data.DataLoader.__iter__, torch.save

    def iter_timed(self):
        starts.append(time.perf_counter())
        return loader_iter(self)

    def save_timed(obj, f, *a, **k):
        out = save(obj, f, *a, **k)
        if "netG_epoch" in str(f):
            ends.append(time.perf_counter())
        return out

    torch.utils.data.DataLoader.__iter__, torch.save = iter_timed, save_timed
    with contextlib.redirect_stdout(printed):
        exec(compile(dcgan_28.source_28(source, args.dataset), source_path, "exec"), {"__name__": "dcgan_original"})
    images = 60000
    results = [{"epoch": e, "train_seconds": end - start, "train_images_per_second": images / (end - start)}
               for e, (start, end) in enumerate(zip(starts, ends))]
    print(json.dumps(results))


def dcgan_scores(args, checkpoint, work):
    """The classifier's scores of --samples images drawn from a generator checkpoint (.pth or .safetensors)."""
    import numpy as np
    import torch
    sys.path.insert(0, os.path.join(root, "tests", "python"))
    import torch_unet as tu
    with open(os.path.join(originals, "dcgan_main.py")) as f:
        generator_class, _ = dcgan_28.networks(f.read())
    g = generator_class(1)
    state = tu.load_safetensors(checkpoint)[0] if checkpoint.endswith(".safetensors") else torch.load(checkpoint)
    g.load_state_dict(state, strict=True)
    torch.set_num_threads(args.threads)
    samples = os.path.join(work, "samples.npy")
    np.save(samples, dcgan_28.draw(g, args.samples, seed=0))
    score = os.path.join(args.build, "examples", "score")
    out = subprocess.run([score, samples, "--data", args.data, "--threads", str(args.threads), "--device", "cpu"],
                         check=True, capture_output=True, text=True, env=environment(args), cwd=root).stdout
    return json.loads(out.strip().splitlines()[-1])


def dcgan(side, args, seed, keep=None):
    """One side's DCGAN run: each epoch's speed, then its generator's scores; keep: its last fixed-noise figure."""
    with tempfile.TemporaryDirectory() as work:
        if side == "original":
            env = environment(args)
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "dcgan", "--child", "--seed", str(seed),
                                  "--epochs", str(args.epochs), "--threads", str(args.threads), "--data", args.data,
                                  "--dataset", args.dataset, "--outf", work],
                                 check=True, capture_output=True, text=True, env=env)
            epochs = json.loads(out.stdout.strip().splitlines()[-1])
            checkpoint = os.path.join(work, "netG_epoch_{}.pth")
        else:
            run(args, "dcgan", seed, work, ["--quiet", "--samples", "1"])
            with open(os.path.join(work, "run", "summary.json")) as f:
                epochs = json.load(f)["epochs"]
            checkpoint = os.path.join(work, "run", "netG_epoch_{}.safetensors")
        for e in epochs:
            scores = dcgan_scores(args, checkpoint.format(e["epoch"]), work)
            e.update({k: scores[k] for k in ("frechet_distance", "class_spread", "confident_share")})
        if keep:
            figure = f"fake_samples_epoch_{epochs[-1]['epoch']:03d}.png" if side == "original" else \
                os.path.join("run", f"fake_samples_epoch_{epochs[-1]['epoch']}.png")
            shutil.copyfile(os.path.join(work, figure), os.path.join(keep, f"{side}_fake_samples.png"))
        return epochs


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


def run(args, example, seed, runs, extra=()):
    """The port, its run folder runs/run/."""
    program = os.path.join(args.build, "examples", f"pytorch_{example}")
    if not os.path.exists(program):
        sys.exit(f"pytorch_examples: no {program}: build it first (cmake --build {args.build} --target pytorch_{example})")
    subprocess.run([program, "--epochs", str(args.epochs), "--seed", str(seed), "--threads", str(args.threads),
                    "--data", args.data, "--runs", runs, "--name", "run", "--device", "cpu", *extra],
                   check=True, stdout=subprocess.DEVNULL, env=environment(args))


def port(example, args, seed, keep=None):
    with tempfile.TemporaryDirectory() as runs:
        run(args, example, seed, runs)
        with open(os.path.join(runs, "run", "summary.json")) as f:
            return json.load(f)["epochs"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("example", choices=["mnist", "vae", "dcgan"])
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dataset", choices=sorted(TORCHVISION_FOLDER), default="mnist", help="DCGAN's data set")
    ap.add_argument("--data", help="its files (default: data/mnist; Fashion-MNIST: Debian's, /usr/share/datasets)")
    ap.add_argument("--samples", type=int, default=1000, help="DCGAN: images scored after each epoch")
    ap.add_argument("--build", default=os.path.join(root, "build"))
    ap.add_argument("--json", help="write every figure here")
    ap.add_argument("--only", choices=["original", "port"])
    ap.add_argument("--run-folder", help="write the comparison here as a run folder (summary.json) for the site")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--keep", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--outf", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.epochs is None:
        args.epochs = {"mnist": 3, "vae": 10, "dcgan": 5}[args.example]
    if args.data is None:
        fashion = args.example == "dcgan" and args.dataset == "fashion-mnist"
        args.data = "/usr/share/datasets/fashion-mnist" if fashion else os.path.join(root, "data", "mnist")
    if args.epochs < 1 or args.threads < 1 or not args.seeds or args.samples < 2:
        sys.exit("pytorch_examples: --epochs and --threads must be at least 1, --samples at least 2, and --seeds must "
                 "name a seed")
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
                if args.example == "dcgan":
                    figures[side][str(seed)] = dcgan(side, args, seed, staging if seed == args.seeds[0] else None)
                    continue
                keep = staging if side == "original" and seed == args.seeds[0] and args.example == "vae" else None
                figures[side][str(seed)] = runner(args.example, args, seed, keep)
    except BaseException:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    # the first metric's figures are "{side}_mean" etc. in the run folder, any other's "{metric}_{side}_mean"
    keys = {"mnist": ["test_accuracy"], "vae": ["test_loss"], "dcgan": ["frechet_distance", "class_spread"]}
    keys = keys[args.example]
    key = keys[0]
    rows = []
    print(f"\n{args.example}, {args.threads} threads, seeds {' '.join(map(str, args.seeds))}: {', '.join(keys)} after "
          f"each epoch (mean over seeds), training images/s (median over seeds and epochs)")
    for epoch in range(args.epochs):
        row = f"epoch {epoch + 1:2d}"
        entry = {"epoch": epoch + 1}
        for k in keys:
            prefix = "" if k == key else k + "_"
            means = {}
            for side in ("original", "port"):
                values = [runs[epoch][k] for runs in figures[side].values() if len(runs) > epoch]
                if values:
                    means[side] = statistics.mean(values)
                    sd = statistics.stdev(values) if len(values) > 1 else 0.0
                    entry.update({f"{prefix}{side}_mean": means[side], f"{prefix}{side}_sd": sd,
                                  f"{prefix}{side}_values": values})
                    scale = 100 if k == "test_accuracy" else 1
                    row += f"   {k} {side} {means[side] * scale:8.4f} ± {sd * scale:.4f}"
            if len(means) == 2:
                diff = means["port"] - means["original"]
                row += (f"   port - original {diff * 100:+.3f} points" if k == "test_accuracy"
                        else f"   port / original {means['port'] / means['original']:.4f}")
        rows.append(entry)
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
                       "threads": args.threads, "seeds": args.seeds, "metric": key, "metrics": keys,
                       "data": os.path.relpath(args.data, root) if os.path.abspath(args.data).startswith(root + os.sep) else args.data,
                       "samples": args.samples,
                       "machine": cpu_name(),
                       "torch": torch.__version__},
            "epochs": rows,
            "speed": {f"{side}_images_per_second": v for side, v in speeds.items()},
            "files": {}}
        if len(speeds) == 2:
            summary["speed"]["ratio"] = speeds["port"] / speeds["original"]
        for name in sorted(os.listdir(staging)):
            what = "the generator's 64 images of its fixed noise" if "fake_samples" in name else \
                "samples decoded from N(0, I) codes" if "sample" in name else \
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
