#!/usr/bin/env python3
"""A 16-point sweep of one channel group, cnnprune against the naive way in PyTorch, in one run.

cnnprune: `cnnprune sweep --model M --layer GROUP --criterion l1` as a whole process (reading
the data, ranking, 16 masked evaluations of the 10,000 test images, writing its files); it runs
the layers before the group once per batch for all masked copies.
PyTorch (the naive way): the same checkpoint in the same architecture (`graph_model` of
scripts/torch_interop.py, strict load), ranked by the same L1 norms, then for each K a fresh
deep copy with the K channels of the group zeroed (filters, BatchNorm weight and bias) and a
full evaluation of the test set (batch 100, no_grad, eval mode). Prints both times, their ratio,
and whether every accuracy agrees.

Usage: python3 benchmarks/group_sweep.py MODEL.safetensors GROUP [DATA_DIR] [--threads 2]
"""
import argparse, copy, json, os, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import torch_interop as ti  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("group")
    ap.add_argument("data", nargs="?", default=os.environ.get("CIFAR10_DIR", os.path.join(REPO, "..", "shared", "cifar-10-batches-bin")))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cnnprune", default=os.path.join(REPO, ".build", "release", "cnnprune"))
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)

    out = tempfile.mkdtemp(prefix="cnnprune-group-sweep-")
    start = time.perf_counter()
    subprocess.run([a.cnnprune, "sweep", "--model", a.model, "--layer", a.group, "--criterion", "l1", "--data", a.data,
                    "--threads", str(a.threads), "--output", out], check=True, capture_output=True)
    ours = time.perf_counter() - start
    sweep = json.load(open(os.path.join(out, "sweep.json")))
    points = sweep["criteria"][0]["points"]
    ranking = sweep["criteria"][0]["ranking"]
    producers = sweep["producers"]
    members = sweep["members"]

    arrays, meta = ti.st_load(a.model)
    model = ti.graph_model(json.loads(meta["cnnprune.graph"]))
    state = {k: torch.from_numpy(v.copy()) for k, v in arrays.items()}
    model.load_state_dict(state, strict=True)
    x, y = ti.load_cifar(a.data, ["test_batch.bin"])

    start = time.perf_counter()
    # The same ranking, recomputed the usual way: L1 norm of each producer's filters, each
    # producer's scores divided by their mean, averaged.
    scores = None
    for p in producers:
        w = dict(model.named_parameters())[p + ".weight"].detach()
        s = w.abs().flatten(1).sum(1).double()
        s = s / s.abs().mean()
        scores = s if scores is None else scores + s
    order = sorted(range(len(scores)), key=lambda i: (float(scores[i]), i))
    norms = {m.rsplit(".", 1)[0] for m in members if m.endswith(".running_mean")}
    accuracies = []
    for point in points:
        k = point["k"]
        masked = copy.deepcopy(model)
        params = dict(masked.named_parameters())
        with torch.no_grad():
            for name in members:
                if name.endswith((".running_mean", ".running_var")) or name not in params:
                    continue
                # Producers' filters and biases, and the BatchNorms' weights and biases (consumers keep theirs).
                if any(name.startswith(p + ".") for p in producers) or name.rsplit(".", 1)[0] in norms:
                    params[name][order[:k]] = 0
        accuracies.append(ti.torch_eval(masked, x, y)[1])
    naive = time.perf_counter() - start
    agree = [c == p["correct"] for c, p in zip(accuracies, points)]
    print(f"sweep of {a.group} ({len(points)} values of K, {len(y)} test images, {a.threads} threads)")
    print(f"  cnnprune sweep (whole process):    {ours:7.2f} s")
    print(f"  PyTorch, naive (copy + full eval):  {naive:7.2f} s")
    print(f"  ratio cnnprune / PyTorch:           {ours / naive:7.3f}")
    print(f"  same ranking: {order == ranking}; accuracies equal at {sum(agree)} of {len(agree)} points")
    json.dump({"group": a.group, "points": len(points), "cnnprune_seconds": ours, "torch_naive_seconds": naive,
               "ratio": ours / naive, "same_ranking": order == ranking, "agreeing_points": sum(agree)}, open(os.path.join(out, "bench.json"), "w"))


if __name__ == "__main__":
    main()
