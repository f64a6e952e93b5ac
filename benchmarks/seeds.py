#!/usr/bin/env python3
"""Seed-to-seed statistics: cnnprune against the PyTorch peer on the exercise's recipe.

Trains seeds 0..N-1 with each implementation —
  cnnprune: `cnnprune train --data DIR --epochs E --seed S --threads T --output F --json`
  the peer: `python torch_seed.py DIR OUT E S` (../shared/peer/torch_seed.py, or $PEER_SCRIPT;
            python: $TORCH_PYTHON, else /tmp/cnnprune-torch-venv/bin/python, else python3)
— and prints each implementation's mean test accuracy, sd and 95 % t interval, Welch's test
of equal means with the interval of the difference, and a TOST equivalence test (two
one-sided Welch tests) with margin ±--margin points (default 0.5).

Every finished seed is cached as OUT/e{E}/{cnnprune,torch}/seed_{S}.json (written atomically),
so an interrupted run continues where it stopped and a larger N reuses the seeds already done.
Seeds alternate between the implementations, so a partial run stays balanced.

The statistics use SciPy when it can be imported, else a small pure-Python fallback (the
regularised incomplete beta by continued fraction, as the Swift CNNStatistics module);
`--selftest` compares the two (needs SciPy).

Usage: python3 benchmarks/seeds.py N [--epochs 10] [--data DIR] [--out runs/seeds] [--json OUT]
                                   [--threads 2] [--margin 0.5] [--cnnprune PATH] [--only cnnprune|torch]
One seed takes about 80 s per implementation on an idle 2-core machine at 10 epochs.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------------------
# Statistics: SciPy if importable, else the fallback below
# ---------------------------------------------------------------------------------------


def _betacf(x, a, b):
    """Continued fraction of I_x(a, b) (modified Lentz; Numerical Recipes' betacf)."""
    tiny, eps = 1e-300, 1e-16
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10001):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d; d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c; c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d; d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c; c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1) < eps:
            break
    return h


def betainc(a, b, x):
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    lf = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(lf) * _betacf(x, a, b) / a
    return 1 - math.exp(lf) * _betacf(1 - x, b, a) / b


def t_sf_fallback(t, df):
    """P(T > t) for Student's t with df degrees of freedom."""
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    tail = 0.5 * betainc(df / 2, 0.5, df / (df + t * t))
    return tail if t > 0 else 1 - tail


def t_ppf_fallback(p, df):
    """The p-quantile, by bisection on the CDF (to 1e-12)."""
    if p == 0.5:
        return 0.0
    q = min(p, 1 - p)
    lo, hi = 0.0, 1.0
    while t_sf_fallback(hi, df) > q:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_sf_fallback(mid, df) > q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * hi:
            break
    t = (lo + hi) / 2
    return t if p > 0.5 else -t


try:
    import scipy.stats as _st

    def t_sf(t, df):
        return float(_st.t.sf(t, df))

    def t_ppf(p, df):
        return float(_st.t.ppf(p, df))

    STATS_BACKEND = "scipy " + __import__("scipy").__version__
except Exception:  # ImportError, or a broken install
    t_sf, t_ppf = t_sf_fallback, t_ppf_fallback
    STATS_BACKEND = "pure-Python fallback"


def summary(xs):
    n = len(xs)
    mean = sum(xs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else None
    ci = None
    if sd is not None:
        half = t_ppf(0.975, n - 1) * sd / math.sqrt(n) if sd > 0 else 0.0
        ci = [mean - half, mean + half]
    return {"n": n, "mean": mean, "sd": sd, "ci95": ci}


def welch(a, b, margin, alpha=0.05):
    """Welch's test of mean(a) = mean(b) (two-sided), the 95 % interval of the difference, and
    TOST: H0 diff <= -margin rejected by (diff + margin)/se, H0 diff >= +margin by (diff - margin)/se."""
    sa, sb = summary(a), summary(b)
    if sa["sd"] is None or sb["sd"] is None:
        return None
    ua, ub = sa["sd"] ** 2 / sa["n"], sb["sd"] ** 2 / sb["n"]
    se = math.sqrt(ua + ub)
    d = sa["mean"] - sb["mean"]
    df = (ua + ub) ** 2 / (ua ** 2 / (sa["n"] - 1) + ub ** 2 / (sb["n"] - 1)) if ua + ub > 0 else sa["n"] + sb["n"] - 2
    if se == 0:
        t, p = (0.0, 1.0) if d == 0 else (math.copysign(math.inf, d), 0.0)
        p_low, p_up = (0.0 if d > -margin else 1.0), (0.0 if d < margin else 1.0)
        ci95 = ci90 = [d, d]
    else:
        t = d / se
        p = min(1.0, 2 * t_sf(abs(t), df))
        p_low = t_sf((d + margin) / se, df)
        p_up = t_sf(-(d - margin) / se, df)   # P(T <= (d - margin)/se), by symmetry
        h95, h90 = t_ppf(0.975, df) * se, t_ppf(1 - alpha, df) * se
        ci95, ci90 = [d - h95, d + h95], [d - h90, d + h90]
    p_tost = max(p_low, p_up)
    return {"difference": d, "se": se, "df": df, "t": t, "p": p, "ci95": ci95,
            "tost": {"margin": margin, "alpha": alpha, "p_lower": p_low, "p_upper": p_up, "p": p_tost,
                     "ci90": ci90, "equivalent": p_tost < alpha}}


# ---------------------------------------------------------------------------------------
# Training one seed, cached
# ---------------------------------------------------------------------------------------


def torch_python():
    if os.environ.get("TORCH_PYTHON"):
        return os.environ["TORCH_PYTHON"]
    venv = "/tmp/cnnprune-torch-venv/bin/python"
    return venv if os.access(venv, os.X_OK) else "python3"


def write_atomic(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


def run_cnnprune(a, seed, work):
    model = os.path.join(work, f"cnnprune_seed{seed}.safetensors")
    cmd = [a.cnnprune, "train", "--data", a.data, "--epochs", str(a.epochs), "--seed", str(seed),
           "--threads", str(a.threads), "--output", model, "--json"]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"seeds: {' '.join(cmd)} failed: {p.stderr.strip()[-1500:]}")
    report = json.loads(p.stdout[p.stdout.index("{"):])
    return {"implementation": "cnnprune", "seed": seed, "epochs": a.epochs, "threads": a.threads,
            "test_accuracy": report["test_accuracy"], "train_loss": [e["train_loss"] for e in report["epochs"]],
            "wall_seconds": time.perf_counter() - t0, "command": " ".join(cmd)}


def run_torch(a, seed, work):
    out = os.path.join(work, f"torch_seed{seed}")
    cmd = [torch_python(), a.peer, a.data, out, str(a.epochs), str(seed)]
    # Idle OpenMP threads sleep instead of spinning: same numbers, but on a shared machine a
    # spinning 2-thread pool runs several times slower (measured here: 6x at load 10).
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"seeds: {' '.join(cmd)} failed: {p.stderr.strip()[-1500:]}")
    ref = json.load(open(os.path.join(out, "reference.json")))
    return {"implementation": "torch", "seed": seed, "epochs": a.epochs, "torch": ref.get("torch"),
            "test_accuracy": ref["epochs"][-1]["test_acc"], "train_loss": [e["train_loss"] for e in ref["epochs"]],
            "wall_seconds": time.perf_counter() - t0, "command": " ".join(cmd)}


def fmt(s):
    if s["sd"] is None:
        return f"{s['mean']:.2f} % (n = 1: no sd, no interval)"
    return f"{s['mean']:.2f} %  sd {s['sd']:.2f}  95 % CI [{s['ci95'][0]:.2f}, {s['ci95'][1]:.2f}]  (n = {s['n']})"


def selftest():
    """The fallback against SciPy on a grid, and one Welch/TOST case against statsmodels' values."""
    try:
        import scipy.stats as st
    except Exception:
        print("seeds: --selftest needs SciPy")
        return 1
    worst = 0.0
    for df in (1, 2.5, 7, 13.9, 30, 1000):
        for t in (-30, -4, -1.5, -0.2, 0.4, 1.9, 2.6, 9):
            worst = max(worst, abs(t_sf_fallback(t, df) - st.t.sf(t, df)) / st.t.sf(t, df))
        for p in (0.001, 0.025, 0.05, 0.3, 0.95, 0.975):
            worst = max(worst, abs(t_ppf_fallback(p, df) - st.t.ppf(p, df)) / abs(st.t.ppf(p, df)))
    a = [67.93, 68.66, 68.62, 67.41, 68.95, 69.02, 67.88, 68.49]
    b = [68.71, 69.40, 68.12, 69.85, 68.77, 68.30, 69.64, 69.05]
    w = welch(a, b, 0.5)
    ref = st.ttest_ind(a, b, equal_var=False)
    worst = max(worst, abs(w["p"] - ref.pvalue) / ref.pvalue)
    # statsmodels ttost_ind(a, b, -0.5, 0.5, usevar="unequal") gives p = 0.6412709355182807.
    worst = max(worst, abs(w["tost"]["p"] - 0.6412709355182807) / 0.6412709355182807)
    ok = worst < 1e-9
    print(f"seeds selftest: worst relative difference from SciPy/statsmodels {worst:.2e} -> {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", type=int, nargs="?", help="seeds 0..N-1")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--data", default=os.environ.get("CIFAR10_DIR", os.path.join(REPO, "..", "shared", "cifar-10-batches-bin")))
    ap.add_argument("--out", default=os.path.join(REPO, "runs", "seeds"), help="cache folder (default runs/seeds)")
    ap.add_argument("--json", help="write the per-seed results and statistics here")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--margin", type=float, default=0.5, help="TOST equivalence margin in accuracy points (0.5)")
    ap.add_argument("--cnnprune", default=os.path.join(REPO, ".build", "release", "cnnprune"))
    ap.add_argument("--peer", default=os.environ.get("PEER_SCRIPT", os.path.join(REPO, "..", "shared", "peer", "torch_seed.py")))
    ap.add_argument("--only", choices=["cnnprune", "torch"], help="train one implementation only (the cache keeps the other's)")
    ap.add_argument("--selftest", action="store_true", help="check the pure-Python statistics against SciPy, then exit")
    a = ap.parse_args(argv)
    if a.selftest:
        return selftest()
    if a.n is None or a.n < 1:
        ap.error("N (a positive number of seeds) is required")
    if a.epochs < 1:
        ap.error("--epochs must be positive")
    if not os.path.isfile(os.path.join(a.data, "test_batch.bin")):
        sys.exit(f"seeds: no CIFAR-10 binary data at {a.data}")
    runners = {"cnnprune": run_cnnprune, "torch": run_torch}
    if a.only:
        runners = {a.only: runners[a.only]}
    if "cnnprune" in runners and not os.access(a.cnnprune, os.X_OK):
        sys.exit(f"seeds: {a.cnnprune} is missing; build it with `swift build -c release --product cnnprune`")
    if "torch" in runners and subprocess.run([torch_python(), "-c", "import torch"], capture_output=True).returncode != 0:
        sys.exit(f"seeds: {torch_python()} cannot import torch (set TORCH_PYTHON)")
    cache = os.path.join(a.out, f"e{a.epochs}")
    work = tempfile.mkdtemp(prefix="cnnprune-seeds-")
    print(f"seeds: {a.n} seeds × {list(runners)}, {a.epochs} epochs, cache {cache}, statistics: {STATS_BACKEND}", flush=True)
    results = {"cnnprune": {}, "torch": {}}
    for seed in range(a.n):
        for name in ("cnnprune", "torch"):
            path = os.path.join(cache, name, f"seed_{seed}.json")
            if os.path.isfile(path):
                results[name][seed] = json.load(open(path))
                print(f"  {name:8s} seed {seed}: {results[name][seed]['test_accuracy']:.2f} % (cached)", flush=True)
            elif name in runners:
                r = runners[name](a, seed, work)
                write_atomic(path, r)
                results[name][seed] = r
                print(f"  {name:8s} seed {seed}: {r['test_accuracy']:.2f} % ({r['wall_seconds']:.0f} s)", flush=True)
    acc = {k: [v[s]["test_accuracy"] for s in sorted(v)] for k, v in results.items()}
    out = {"epochs": a.epochs, "seeds": a.n, "statistics": STATS_BACKEND, "margin": a.margin,
           "accuracies": {k: {str(s): v[s]["test_accuracy"] for s in sorted(v)} for k, v in results.items()}}
    print()
    for k in ("cnnprune", "torch"):
        if acc[k]:
            out[k] = summary(acc[k])
            print(f"  {k:8s}: {fmt(out[k])}")
    w = welch(acc["cnnprune"], acc["torch"], a.margin) if acc["cnnprune"] and acc["torch"] else None
    if w:
        out["welch"] = w
        tost = w["tost"]
        print(f"  cnnprune − torch: {w['difference']:+.2f} points, 95 % CI [{w['ci95'][0]:+.2f}, {w['ci95'][1]:+.2f}]; "
              f"Welch t = {w['t']:.3f}, df = {w['df']:.1f}, p = {w['p']:.4f}")
        print(f"  TOST within ±{a.margin:g} points: p = {tost['p']:.4f} (lower {tost['p_lower']:.4f}, upper {tost['p_upper']:.4f}); "
              f"90 % CI [{tost['ci90'][0]:+.2f}, {tost['ci90'][1]:+.2f}] -> "
              + ("equivalent" if tost["equivalent"] else "equivalence not shown"))
    else:
        print("  (Welch and TOST need at least two seeds of each implementation)")
    if a.json:
        write_atomic(os.path.abspath(a.json), out)
        print(f"  wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
