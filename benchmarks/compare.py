#!/usr/bin/env python3
"""cnnprune against the PyTorch peer, side by side, in one run on this machine.

Times, for cnnprune and for the peer (../shared/peer/torch_seed.py, or $PEER_SCRIPT):
  - one training epoch of 50,000 images (seconds, images/s) and the 10,000-image evaluation;
  - a 16-point conv2 sweep (mean activation ranked on the test set, weight+bias zeroed),
    cnnprune as a whole process (`cnnprune sweep`), the peer as its `fixed_sweep_seconds`;
  - peak memory (max RSS) of each training process;
  - cnnprune training with 1 thread against 2 threads.
and prints cnnprune/peer ratios. The peer runs when $TORCH_PYTHON (default python3) imports
torch; otherwise only cnnprune's figures are printed.

Usage: python3 benchmarks/compare.py [DATA_DIR] [--threads 2] [--epochs 1] [--json OUT]
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=os.environ.get("CIFAR10_DIR", os.path.join(REPO, "..", "shared", "cifar-10-batches-bin")))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--cnnprune", default=os.path.join(REPO, ".build", "release", "cnnprune"))
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()
    if not os.path.isdir(a.data):
        sys.exit(f"benchmark: no CIFAR-10 data at {a.data}")
    if not os.access(a.cnnprune, os.X_OK):
        sys.exit(f"benchmark: {a.cnnprune} is missing; run `bash scripts/setup.sh` first")
    work = tempfile.mkdtemp(prefix="cnnprune-bench-")
    res = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "cpu": cpu_model(), "threads": a.threads, "epochs": a.epochs}

    # --- cnnprune
    model = os.path.join(work, "model.safetensors")
    out, wall, rss = timed([a.cnnprune, "train", "--data", a.data, "--epochs", str(a.epochs), "--threads", str(a.threads), "--output", model, "--json"])
    report = json.loads(out)
    last = report["epochs"][-1]
    res["cnnprune"] = {"epoch_seconds": min(e["seconds"] for e in report["epochs"]), "images_per_second": max(e["images_per_second"] for e in report["epochs"]),
                       "eval_seconds": min(e["eval_seconds"] for e in report["epochs"]), "train_max_rss_mb": rss, "test_accuracy": last["test_accuracy"]}
    out, _, _ = timed([a.cnnprune, "train", "--data", a.data, "--epochs", "1", "--threads", "1", "--output", os.path.join(work, "one.safetensors"), "--json"])
    res["cnnprune"]["epoch_seconds_1_thread"] = json.loads(out)["epochs"][0]["seconds"]
    has_sweep = subprocess.run([a.cnnprune, "sweep", "--help"], capture_output=True).returncode == 0
    if has_sweep:
        sweep_dir = os.path.join(work, "sweep")
        _, wall, _ = timed([a.cnnprune, "sweep", "--model", model, "--data", a.data, "--layer", "conv2", "--criterion", "mean-activation",
                            "--calibration", "test", "--k", "0:32:2", "--threads", str(a.threads), "--output", sweep_dir])
        res["cnnprune"]["sweep_seconds"] = wall

    # --- the peer
    py = os.environ.get("TORCH_PYTHON", "python3")
    peer = os.environ.get("PEER_SCRIPT", os.path.join(REPO, "..", "shared", "peer", "torch_seed.py"))
    if subprocess.run([py, "-c", "import torch"], capture_output=True).returncode == 0 and os.path.exists(peer):
        peer_out = os.path.join(work, "peer")
        _, _, rss = timed([py, peer, a.data, peer_out, str(a.epochs), "0"])
        ref = json.load(open(os.path.join(peer_out, "reference.json")))
        res["peer"] = {"epoch_seconds": min(e["seconds"] for e in ref["epochs"]), "eval_seconds": min(e["eval_seconds"] for e in ref["epochs"]),
                       "images_per_second": 50000 / min(e["seconds"] for e in ref["epochs"]), "train_max_rss_mb": rss,
                       "sweep_seconds": ref["fixed_sweep_seconds"], "torch": ref.get("torch"), "test_accuracy": ref["epochs"][-1]["test_acc"]}
    else:
        res["peer"] = None

    c, p = res["cnnprune"], res["peer"]
    print(f"cnnprune benchmark, {res['date']}, {res['cores']} cores ({res['cpu']}), {a.threads} threads, {a.epochs} epoch(s)")
    print(f"  training epoch   cnnprune {c['epoch_seconds']:.2f} s ({c['images_per_second']:.0f} img/s)" + (f"   peer {p['epoch_seconds']:.2f} s ({p['images_per_second']:.0f} img/s)   speed ratio {p['epoch_seconds'] / c['epoch_seconds']:.2f}x" if p else ""))
    print(f"  evaluation       cnnprune {c['eval_seconds']:.2f} s" + (f"   peer {p['eval_seconds']:.2f} s   speed ratio {p['eval_seconds'] / c['eval_seconds']:.2f}x" if p else ""))
    if "sweep_seconds" in c:
        print(f"  16-point sweep   cnnprune {c['sweep_seconds']:.2f} s (whole process)" + (f"   peer {p['sweep_seconds']:.2f} s (loop only)   speed ratio {p['sweep_seconds'] / c['sweep_seconds']:.1f}x" if p else ""))
    print(f"  peak memory      cnnprune {c['train_max_rss_mb']:.0f} MB" + (f"   peer {p['train_max_rss_mb']:.0f} MB   ratio {c['train_max_rss_mb'] / p['train_max_rss_mb']:.2f}" if p else ""))
    print(f"  threads          cnnprune 1 thread {c['epoch_seconds_1_thread']:.2f} s, {a.threads} threads {c['epoch_seconds']:.2f} s: {c['epoch_seconds_1_thread'] / c['epoch_seconds']:.2f}x")
    if not p:
        print("  peer skipped: torch is not importable (set TORCH_PYTHON)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
