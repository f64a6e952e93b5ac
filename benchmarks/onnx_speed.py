#!/usr/bin/env python3
"""onnxruntime on the exported SimpleCNN, unpruned against pruned, over the 10,000 test images.

    python3 benchmarks/onnx_speed.py [DATA_DIR] [--model M.safetensors] [--k 16] [--runs 5]

Without --model it trains the SimpleCNN one epoch; it removes the --k least important (L1) of
conv2's channels with `cnnprune prune`, exports both with `cnnprune export`, and times
onnxruntime (CPU, 2 intra-op threads) over the 10,000 CIFAR-10 test images in batches of 1,000:
best of --runs passes per model, the models timed in turn. Needs numpy and onnxruntime.
Run it on an otherwise idle machine: timings on a busy one say little.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import onnx_check  # noqa: E402  (the CIFAR-10 reader and the normalisation)


def cnnprune(exe, args):
    proc = subprocess.run([exe] + args, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"onnx_speed: cnnprune {args[0]} failed: {proc.stderr.strip()}")
    return proc.stdout


def session(path, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def one_pass(sess, x, batch):
    name = sess.get_inputs()[0].name
    start = time.perf_counter()
    for i in range(0, len(x), batch):
        sess.run(None, {name: x[i:i + batch]})
    return time.perf_counter() - start


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", nargs="?", default=os.environ.get("CIFAR10_DIR", os.path.join(REPO, "data", "cifar-10-batches-bin")))
    p.add_argument("--cnnprune", default=os.path.join(REPO, ".build", "release", "cnnprune"))
    p.add_argument("--model", help="a SimpleCNN checkpoint (default: train one epoch)")
    p.add_argument("--k", type=int, default=16, help="conv2 channels removed")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--json", help="also write the figures here")
    a = p.parse_args(argv)
    work = tempfile.mkdtemp(prefix="cnnprune-onnx-speed-")
    model = a.model or os.path.join(work, "simplecnn.safetensors")
    if not a.model:
        cnnprune(a.cnnprune, ["train", "--data", a.data, "--epochs", "1", "--output", model, "--threads", str(a.threads)])
    pruned = os.path.join(work, "pruned.safetensors")
    # cnnprune's own speed-up of the same removal: its evaluator, best of --runs interleaved rounds.
    own = json.loads(cnnprune(a.cnnprune, ["prune", "--model", model, "--layer", "conv2", "--k", str(a.k), "--criterion", "l1",
                                           "--timing-runs", str(a.runs), "--data", a.data, "--output", pruned,
                                           "--threads", str(a.threads), "--json"]))
    paths = {}
    for label, ck in [("unpruned", model), ("pruned", pruned)]:
        paths[label] = os.path.join(work, f"{label}.onnx")
        cnnprune(a.cnnprune, ["export", "--model", ck, "--output", paths[label]])
    pixels, _ = onnx_check.read_cifar(os.path.join(a.data, "test_batch.bin"))
    sessions, inputs = {}, {}
    for label, path in paths.items():
        _, mean, std, _ = onnx_check.check_onnx_file(path)
        inputs[label] = onnx_check.normalise(pixels, mean, std)
        sessions[label] = session(path, a.threads)
        one_pass(sessions[label], inputs[label][: a.batch], a.batch)  # warm-up
    best = {label: float("inf") for label in paths}
    for _ in range(a.runs):
        for label in paths:
            best[label] = min(best[label], one_pass(sessions[label], inputs[label], a.batch))
    figures = {label: {"seconds": round(best[label], 4), "images_per_second": round(len(pixels) / best[label])} for label in paths}
    figures["speedup"] = round(best["unpruned"] / best["pruned"], 2)
    figures["cnnprune"] = {"unpruned_images_per_second": own["before"]["images_per_second"],
                           "pruned_images_per_second": own["pruned"]["images_per_second"],
                           "speedup": own["speed_up"], "macs_ratio": own["macs_ratio"]}
    for label in paths:
        print(f"{label:9} {figures[label]['seconds']:.3f} s  {figures[label]['images_per_second']:,} images/s")
    print(f"pruned (conv2 -{a.k}) is {figures['speedup']}x as fast in onnxruntime "
          f"({a.threads} intra-op threads, batch {a.batch}, best of {a.runs})")
    c = figures["cnnprune"]
    print(f"cnnprune's own evaluator: {c['unpruned_images_per_second']:,.0f} -> {c['pruned_images_per_second']:,.0f} images/s, "
          f"{c['speedup']}x as fast (best of {a.runs}), for {1 / c['macs_ratio']:.2f}x fewer multiply-accumulates")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(figures, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
