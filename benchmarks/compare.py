#!/usr/bin/env python3
"""cnnprune against PyTorch (and ONNX Runtime), side by side, in one run on this machine.

Default (the SimpleCNN, the exercise's recipe: Adam lr 0.001, batch 64), for cnnprune and for the
peer (../shared/peer/torch_seed.py, or $PEER_SCRIPT):
  - one training epoch of 50,000 images (seconds, images/s) and the 10,000-image evaluation;
  - a 16-point conv2 sweep (mean activation ranked on the test set, weight+bias zeroed),
    cnnprune as a whole process (`cnnprune sweep`), the peer as its `fixed_sweep_seconds`;
  - peak memory (max RSS) of each training process;
  - cnnprune training with 1 thread against 2 threads;
plus PyTorch eager NCHW and `channels_last` on the same SimpleCNN and recipe
(benchmarks/torch_bench.py).

--arch NAME (vgg11-bn, resnet20, resnet32, …): cnnprune training of that architecture (batch 128,
SGD lr 0.1 momentum 0.9, no augmentation; --subset N trains on the first N images for a shorter
epoch) and its 10,000-image evaluation, against PyTorch eager NCHW and `channels_last` on the
same model (`zoo_model()` of scripts/torch_interop.py) and recipe, each in its own process, with
peak memory.

Both: ONNX Runtime evaluation (the model exported with torch.onnx.export, --threads intra-op
threads, batch 64 and batch 1000) when onnxruntime imports, else "skipped". Every
cnnprune/peer ratio of the run is printed (above 1: cnnprune faster, or for memory: uses more).
PyTorch runs when $TORCH_PYTHON (default python3) imports torch; otherwise only cnnprune's
figures are printed.

Usage: python3 benchmarks/compare.py [DATA_DIR] [--arch NAME] [--subset N] [--threads 2]
                                     [--epochs 1] [--json OUT]
"""
import argparse, json, os, platform, re, shutil, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns (stdout, wall seconds, max RSS in MB)."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"benchmark: {' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return proc.stdout, wall, (int(rss.group(1)) / 1024 if rss else float("nan"))


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def torch_python():
    """The Python that runs PyTorch ($TORCH_PYTHON, else python3), or None when torch does not import."""
    py = os.environ.get("TORCH_PYTHON", "python3")
    return py if subprocess.run([py, "-c", "import torch"], capture_output=True).returncode == 0 else None


def torch_bench(py, data, arch, threads, extra):
    """Runs benchmarks/torch_bench.py in its own process; returns (its JSON, max RSS in MB)."""
    out, _, rss = timed([py, os.path.join(REPO, "benchmarks", "torch_bench.py"), data, "--arch", arch, "--threads", str(threads)] + extra)
    return json.loads(out.strip().splitlines()[-1]), rss


def ratio(numerator, denominator):
    return numerator / denominator if numerator and denominator else float("nan")


def print_peers(c, peers, onnx, threads):
    """One line per figure: cnnprune's, each peer's and cnnprune/peer (speed: peer seconds over
    cnnprune seconds, above 1 = cnnprune faster; memory: cnnprune MB over the peer's)."""
    print(f"  {'':26} {'epoch s':>9} {'img/s':>7} {'eval s':>8} {'peak MB':>8}   {'train x':>7} {'eval x':>7} {'memory x':>8}")
    print(f"  {'cnnprune':26} {c['epoch_seconds']:9.2f} {c['images_per_second']:7.0f} {c['eval_seconds']:8.2f} {c['train_max_rss_mb']:8.0f}")
    for name, p in peers.items():
        if p is None:
            print(f"  {name:26} skipped (torch is not importable; set TORCH_PYTHON)")
            continue
        print(f"  {name:26} {p['epoch_seconds']:9.2f} {p['images_per_second']:7.0f} {p['eval_seconds']:8.2f} {p['train_max_rss_mb']:8.0f}"
              f"   {ratio(p['epoch_seconds'], c['epoch_seconds']):7.2f} {ratio(p['eval_seconds'], c['eval_seconds']):7.2f}"
              f" {ratio(c['train_max_rss_mb'], p['train_max_rss_mb']):8.2f}")
    if isinstance(onnx, dict):
        for batch in (64, 1000):
            o = onnx[f"batch_{batch}"]
            print(f"  {'onnxruntime eval, batch ' + str(batch):26} {'':9} {'':7} {o['eval_seconds']:8.2f} {'':8}   {'':7}"
                  f" {ratio(o['eval_seconds'], c['eval_seconds']):7.2f}   ({threads} intra-op threads, onnxruntime {onnx['onnxruntime']})")
    else:
        print(f"  onnxruntime eval: {onnx}")


def onnx_figures(py, data, arch, threads):
    """ONNX Runtime evaluation of `arch` (see torch_bench.py --onnx), or why it was skipped."""
    if py is None:
        return "skipped: torch is not importable"
    out, _, _ = timed([py, os.path.join(REPO, "benchmarks", "torch_bench.py"), data, "--arch", arch, "--threads", str(threads), "--onnx"])
    return json.loads(out.strip().splitlines()[-1])["onnx"]


def arch_benchmark(a, work, res):
    """--arch: cnnprune against PyTorch eager and channels_last on one zoo architecture."""
    recipe = ["--batch-size", "128", "--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9"]
    subset = ["--subset", str(a.subset)] if a.subset else []
    model = os.path.join(work, "model.safetensors")
    out, _, rss = timed([a.cnnprune, "train", "--data", a.data, "--arch", a.arch, "--epochs", "1", "--threads", str(a.threads),
                         "--output", model, "--json"] + recipe + subset)
    e = json.loads(out)["epochs"][0]
    c = res["cnnprune"] = {"epoch_seconds": e["seconds"], "images_per_second": e["images_per_second"], "eval_seconds": e["eval_seconds"],
                           "train_max_rss_mb": rss, "train_loss": e["train_loss"], "test_accuracy": e["test_accuracy"],
                           "matrix_products": json.loads(out).get("matrix_products", "openblas")}
    py = torch_python()
    peers = {}
    for name, memory_format in (("pytorch eager NCHW", "contiguous"), ("pytorch channels_last", "channels_last")):
        if py is None:
            peers[name] = None
            continue
        p, rss = torch_bench(py, a.data, a.arch, a.threads, ["--memory-format", memory_format, "--eval-batch", "128"] + recipe + subset)
        p["train_max_rss_mb"] = rss
        peers[name] = p
    res["peers"] = peers
    res["onnxruntime"] = onnx_figures(py, a.data, a.arch, a.threads)
    print(f"cnnprune benchmark, {res['date']}, {res['cores']} cores ({res['cpu']}), {a.threads} threads: {a.arch}, "
          f"1 epoch of {a.subset if a.subset else 'all'} training images (batch 128, SGD lr 0.1 momentum 0.9, no augmentation), "
          f"evaluation of the test set (batch 128); cnnprune's matrix products on {c['matrix_products']}")
    print_peers(c, peers, res["onnxruntime"], a.threads)


def simplecnn_benchmark(a, work, res):
    """The default: the SimpleCNN with the exercise's recipe against the peer script and PyTorch."""
    model = os.path.join(work, "model.safetensors")
    out, wall, rss = timed([a.cnnprune, "train", "--data", a.data, "--epochs", str(a.epochs), "--threads", str(a.threads), "--output", model, "--json"])
    report = json.loads(out)
    last = report["epochs"][-1]
    res["cnnprune"] = {"epoch_seconds": min(e["seconds"] for e in report["epochs"]), "images_per_second": max(e["images_per_second"] for e in report["epochs"]),
                       "eval_seconds": min(e["eval_seconds"] for e in report["epochs"]), "train_max_rss_mb": rss, "test_accuracy": last["test_accuracy"],
                       "matrix_products": report.get("matrix_products", "openblas")}
    out, _, _ = timed([a.cnnprune, "train", "--data", a.data, "--epochs", "1", "--threads", "1", "--output", os.path.join(work, "one.safetensors"), "--json"])
    res["cnnprune"]["epoch_seconds_1_thread"] = json.loads(out)["epochs"][0]["seconds"]
    has_sweep = subprocess.run([a.cnnprune, "sweep", "--help"], capture_output=True).returncode == 0
    if has_sweep:
        sweep_dir = os.path.join(work, "sweep")
        _, wall, _ = timed([a.cnnprune, "sweep", "--model", model, "--data", a.data, "--layer", "conv2", "--criterion", "mean-activation",
                            "--calibration", "test", "--k", "0:32:2", "--threads", str(a.threads), "--output", sweep_dir])
        res["cnnprune"]["sweep_seconds"] = wall

    # --- the peer script, and PyTorch eager / channels_last on the same network and recipe
    py = torch_python()
    peer = os.environ.get("PEER_SCRIPT", os.path.join(REPO, "..", "shared", "peer", "torch_seed.py"))
    if py is not None and os.path.exists(peer):
        peer_out = os.path.join(work, "peer")
        _, _, rss = timed([py, peer, a.data, peer_out, str(a.epochs), "0"])
        ref = json.load(open(os.path.join(peer_out, "reference.json")))
        res["peer"] = {"epoch_seconds": min(e["seconds"] for e in ref["epochs"]), "eval_seconds": min(e["eval_seconds"] for e in ref["epochs"]),
                       "images_per_second": 50000 / min(e["seconds"] for e in ref["epochs"]), "train_max_rss_mb": rss,
                       "sweep_seconds": ref["fixed_sweep_seconds"], "torch": ref.get("torch"), "test_accuracy": ref["epochs"][-1]["test_acc"]}
    else:
        res["peer"] = None
    peers = {"peer script (torch_seed.py)": res["peer"]}
    recipe = ["--batch-size", "64", "--optimizer", "adam", "--lr", "0.001", "--eval-batch", "64"]
    for name, memory_format in (("pytorch eager NCHW", "contiguous"), ("pytorch channels_last", "channels_last")):
        if py is None:
            peers[name] = None
            continue
        p, rss = torch_bench(py, a.data, "simplecnn", a.threads, ["--memory-format", memory_format] + recipe)
        p["train_max_rss_mb"] = rss
        peers[name] = p
    res["peers"] = {k: v for k, v in peers.items() if k != "peer script (torch_seed.py)"}
    res["onnxruntime"] = onnx_figures(py, a.data, "simplecnn", a.threads)

    c, p = res["cnnprune"], res["peer"]
    print(f"cnnprune benchmark, {res['date']}, {res['cores']} cores ({res['cpu']}), {a.threads} threads, {a.epochs} epoch(s): SimpleCNN, "
          f"Adam lr 0.001, batch 64 (PyTorch eager/channels_last: 1 epoch, evaluation at batch 64); cnnprune's matrix products on {c['matrix_products']}")
    print_peers(c, peers, res["onnxruntime"], a.threads)
    if "sweep_seconds" in c:
        print(f"  16-point sweep   cnnprune {c['sweep_seconds']:.2f} s (whole process)" + (f"   peer {p['sweep_seconds']:.2f} s (loop only)   speed ratio {p['sweep_seconds'] / c['sweep_seconds']:.1f}x" if p else ""))
    print(f"  threads          cnnprune 1 thread {c['epoch_seconds_1_thread']:.2f} s, {a.threads} threads {c['epoch_seconds']:.2f} s: {c['epoch_seconds_1_thread'] / c['epoch_seconds']:.2f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=os.environ.get("CIFAR10_DIR", os.path.join(REPO, "..", "shared", "cifar-10-batches-bin")))
    ap.add_argument("--arch", help="a zoo architecture (vgg11-bn, resnet20, …) instead of the SimpleCNN")
    ap.add_argument("--subset", type=int, help="with --arch: train on the first N training images (a shorter epoch)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1, help="SimpleCNN only: epochs of cnnprune and the peer script")
    ap.add_argument("--cnnprune", default=os.path.join(REPO, ".build", "release", "cnnprune"))
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()
    if not os.path.isdir(a.data):
        sys.exit(f"benchmark: no CIFAR-10 data at {a.data}")
    if not os.access(a.cnnprune, os.X_OK):
        sys.exit(f"benchmark: {a.cnnprune} is missing; run `bash scripts/setup.sh` first")
    if a.subset is not None and (a.subset <= 0 or not a.arch):
        sys.exit("benchmark: --subset takes a positive count, with --arch")
    work = tempfile.mkdtemp(prefix="cnnprune-bench-")
    res = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "cpu": cpu_model(), "threads": a.threads,
           "epochs": a.epochs, "arch": a.arch or "simplecnn", "subset": a.subset}
    if a.arch and a.arch != "simplecnn":
        arch_benchmark(a, work, res)
    else:
        simplecnn_benchmark(a, work, res)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
