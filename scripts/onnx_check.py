#!/usr/bin/env python3
"""Checks `cnnprune export` against onnxruntime on the 10,000 CIFAR-10 test images.

    python3 scripts/onnx_check.py DATA_DIR [--cnnprune .build/release/cnnprune] [--work-dir DIR]

Needs numpy, onnx and onnxruntime (no torch). For each model — the SimpleCNN trained one
epoch (on the first 2,000 training images, `train --subset`; with --full-simplecnn on all 50,000), that SimpleCNN
with 16 of conv2's channels removed (`cnnprune prune`), every zoo architecture at width
multiplier 0.125, ResNet-20 with half of every channel group removed, and a user architecture
file with average pooling, dropout, a projection shortcut and a residual block without ReLU — it

  1. exports the model (`cnnprune export`) and checks the file with onnx.checker (full check),
     opset 17, the dynamic batch dimension (dim_param "batch") and the recorded normalisation;
  2. reads CIFAR-10's test_batch.bin itself, normalises it with the mean and std from the ONNX
     model's metadata_props (cnnprune.normalization), runs onnxruntime (2 intra-op threads,
     batches of 1,000, plus one batch of 7 to exercise the dynamic batch);
  3. compares with `cnnprune evaluate --json --predictions`: the largest logit difference
     relative to the largest |logit| must be at most 1e-4, and the test accuracy equal within
     0.01 points.

The zoo networks are trained one epoch (Adam, rate 0.01) on 2,000 training images
(`train --subset`) so that their BatchNorm running statistics are not the
initial ones, and the check stays fast. Bad input is checked too: a truncated model file must
give one line, a non-zero exit and no .onnx file (nor a temporary one) left behind.

Prints one line per check and closes with `onnx_check: N passed, M failed`; exits 1 on a failure.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORD = 3073  # one CIFAR-10 record: a label byte and 3,072 pixel bytes (R, G, B planes)

CUSTOM_ARCH = {
    "name": "custom-avgpool-dropout",
    "input": [3, 32, 32],
    "layers": [
        {"type": "conv", "name": "stem", "out": 8, "kernel": 3, "stride": 1, "padding": 1, "bias": True},
        {"type": "batchnorm", "name": "stem_bn"}, {"type": "relu"},
        {"type": "avgpool", "kernel": 3, "stride": 2},
        {"type": "residual", "name": "block", "relu": False, "main": [
            {"type": "conv", "name": "conv1", "out": 12, "kernel": 3, "stride": 2, "padding": 1, "bias": False},
            {"type": "batchnorm", "name": "bn1"}, {"type": "relu"}, {"type": "dropout", "p": 0.3},
            {"type": "conv", "name": "conv2", "out": 12, "kernel": 3, "padding": 1, "bias": False},
            {"type": "batchnorm", "name": "bn2"}],
         "shortcut": [{"type": "conv", "name": "downsample.0", "out": 12, "kernel": 1, "stride": 2, "bias": False},
                      {"type": "batchnorm", "name": "downsample.1"}]},
        {"type": "relu"}, {"type": "maxpool", "kernel": 3, "stride": 2},
        {"type": "flatten"}, {"type": "dropout", "p": 0.5},
        {"type": "linear", "name": "fc1", "out": 32}, {"type": "relu"},
        {"type": "linear", "name": "fc2", "out": 10}],
}


# Every activation layer type but ReLU, each exported as its ONNX form (Clip, LeakyRelu,
# Sigmoid + Mul, HardSwish, HardSigmoid, Sigmoid).
ACTIVATIONS_ARCH = {
    "name": "custom-activations",
    "input": [3, 32, 32],
    "layers": [
        {"type": "conv", "name": "conv1", "out": 8, "kernel": 3, "stride": 1, "padding": 1, "bias": False},
        {"type": "batchnorm", "name": "bn1"}, {"type": "hardswish"}, {"type": "maxpool", "kernel": 2},
        {"type": "conv", "name": "conv2", "out": 8, "kernel": 3, "padding": 1}, {"type": "relu6"},
        {"type": "conv", "name": "conv3", "out": 8, "kernel": 3, "stride": 2, "padding": 1}, {"type": "leaky-relu", "slope": 0.1},
        {"type": "conv", "name": "conv4", "out": 8, "kernel": 3, "padding": 1}, {"type": "silu"},
        {"type": "conv", "name": "conv5", "out": 8, "kernel": 1}, {"type": "hardsigmoid"},
        {"type": "global-avgpool"}, {"type": "flatten"},
        {"type": "linear", "name": "fc1", "out": 16}, {"type": "sigmoid"}, {"type": "linear", "name": "fc", "out": 10}],
}


# Depthwise, grouped, dilated, rectangular and unevenly padded convolutions, padded and
# ceil-mode pooling: ONNX Conv's group, dilations, kernel_shape, strides and four pads, and the
# pools' pads and ceil_mode (the network torch_interop.py checks against PyTorch).
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "networks", "convolutions.json")) as _f:
    CONVOLUTIONS_ARCH = json.load(_f)


def run(exe, args, timeout=1800):
    """Runs cnnprune; returns (returncode, stdout, stderr)."""
    proc = subprocess.run([exe] + args, capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def must_run(exe, args):
    code, out, err = run(exe, args)
    if code != 0:
        raise RuntimeError(f"cnnprune {args[0]} failed ({code}): {err.strip()[-400:]}")
    return out


def read_cifar(path):
    """(pixels uint8 [N, 3, 32, 32], labels int64 [N]) from a CIFAR-10 binary batch file."""
    import numpy as np
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD:
        raise RuntimeError(f"{path}: {raw.size} bytes is not a whole number of CIFAR-10 records")
    raw = raw.reshape(-1, RECORD)
    return raw[:, 1:].reshape(-1, 3, 32, 32), raw[:, 0].astype(np.int64)


def normalise(pixels, mean, std):
    """(x/255 − mean[c])/std[c] in float32, as cnnprune (and torchvision) compute it."""
    import numpy as np
    x = pixels.astype(np.float32) / np.float32(255)
    m = np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
    s = np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)
    return ((x - m) / s).astype(np.float32)


def read_predictions(path):
    """(predicted int64 [N], logits float32 [N, classes]) from `evaluate --predictions`."""
    import numpy as np
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    return table[:, 2].astype(np.int64), table[:, 3:].astype(np.float32)


def check_onnx_file(path):
    """Loads and checks the exported file; returns (model, mean, std) or raises."""
    import onnx
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    opsets = {o.domain: o.version for o in model.opset_import}
    if opsets.get("", opsets.get("ai.onnx")) != 17:
        raise RuntimeError(f"opset {opsets}, expected 17")
    for value in list(model.graph.input) + list(model.graph.output):
        first = value.type.tensor_type.shape.dim[0]
        if first.dim_param != "batch":
            raise RuntimeError(f"{value.name}: first dimension is {first}, not the dynamic 'batch'")
    props = {p.key: p.value for p in model.metadata_props}
    if "cnnprune.normalization" not in props:
        raise RuntimeError("no cnnprune.normalization in metadata_props")
    norm = json.loads(props["cnnprune.normalization"])
    ops = sorted({n.op_type for n in model.graph.node})
    allowed = {"Conv", "BatchNormalization", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "Add", "Flatten", "Gemm",
               "Clip", "LeakyRelu", "Sigmoid", "Mul", "HardSwish", "HardSigmoid"}
    if not set(ops) <= allowed:
        raise RuntimeError(f"unexpected operators {sorted(set(ops) - allowed)}")
    return model, norm["mean"], norm["std"], ops


def onnxruntime_logits(path, x, batch, threads):
    import numpy as np
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    parts = [session.run(None, {name: x[i:i + batch]})[0] for i in range(0, len(x), batch)]
    odd = session.run(None, {name: x[:7]})[0]  # another batch size: the batch dimension is dynamic
    return np.concatenate(parts).astype(np.float32), odd


def compare(label, exe, ck, onnx_path, data, pixels, labels, a, work):
    """One model: export, run both, compare. Returns a list of problems (empty: pass)."""
    import numpy as np
    code, out, err = run(exe, ["export", "--model", ck, "--output", onnx_path])
    if code != 0:
        return [f"export failed: {err.strip()}"]
    model, mean, std, ops = check_onnx_file(onnx_path)
    x = normalise(pixels, mean, std)
    logits, odd = onnxruntime_logits(onnx_path, x, a.batch, a.threads)
    csv = os.path.join(work, os.path.basename(ck) + ".predictions.csv")
    report = json.loads(must_run(exe, ["evaluate", "--model", ck, "--data", data, "--threads", str(a.threads),
                                       "--json", "--predictions", csv]))
    predicted, reference = read_predictions(csv)
    problems = []
    scale = float(np.abs(reference).max())
    diff = float(np.abs(logits - reference).max())
    relative = diff / max(scale, 1e-30)
    odd_diff = float(np.abs(odd - logits[:7]).max())
    ort_accuracy = 100.0 * float((logits.argmax(1) == labels).mean())
    differ = int((logits.argmax(1) != predicted).sum())
    if relative > a.logit_tol:
        problems.append(f"logits differ by {diff:.3g} ({relative:.3g} of the largest |logit| {scale:.3g}), more than {a.logit_tol}")
    if abs(ort_accuracy - report["accuracy"]) > a.tol + 1e-9:
        problems.append(f"accuracy {ort_accuracy:.2f} % (onnxruntime) vs {report['accuracy']:.2f} % (cnnprune)")
    if odd_diff > a.logit_tol * max(scale, 1e-30):
        problems.append(f"a batch of 7 gives other logits than the batch of 1000 ({odd_diff:.3g})")
    status = "FAIL" if problems else "PASS"
    print(f"[{status}] onnx {label}: {len(model.graph.node)} nodes ({', '.join(ops)}); max |Δlogit| {diff:.2e} "
          f"= {relative:.2e} of max |logit| {scale:.3g}; accuracy {ort_accuracy:.2f} % (onnxruntime) vs "
          f"{report['accuracy']:.2f} % (cnnprune), {differ} of {len(labels)} predictions differ", flush=True)
    for problem in problems:
        print(f"    {problem}")
    return problems


def bad_input_check(exe, work):
    """A truncated model: one line, non-zero exit, no .onnx and no temporary file left."""
    good = os.path.join(work, "simplecnn.safetensors")
    folder = os.path.join(work, "bad")
    os.makedirs(folder, exist_ok=True)
    truncated = os.path.join(folder, "truncated.safetensors")
    with open(good, "rb") as f:
        blob = f.read()
    with open(truncated, "wb") as f:
        f.write(blob[: len(blob) // 2])
    target = os.path.join(folder, "truncated.onnx")
    code, out, err = run(exe, ["export", "--model", truncated, "--output", target])
    lines = [line for line in err.splitlines() if line.strip()]
    left = sorted(n for n in os.listdir(folder) if n != "truncated.safetensors")
    problems = []
    if code == 0:
        problems.append("exit code 0")
    if len(lines) != 1 or "truncated.safetensors" not in lines[0]:
        problems.append(f"stderr is not one line naming the file: {err.strip()!r}")
    if left:
        problems.append(f"left behind: {left}")
    status = "FAIL" if problems else "PASS"
    print(f"[{status}] onnx truncated model file: exit {code}, {lines[0] if lines else '(no message)'}; files left: {left or 'none'}")
    return problems


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", nargs="?", default=os.environ.get("CIFAR10_DIR"), help="CIFAR-10 binary folder (default: $CIFAR10_DIR)")
    p.add_argument("--cnnprune", default=os.path.join(REPO, ".build", "release", "cnnprune"))
    p.add_argument("--work-dir", help="keep the models, ONNX files and predictions here")
    p.add_argument("--zoo", default="vgg11-bn,resnet20,resnet32,resnet44,resnet56,resnet110,resnet18,mobilenetv2")
    p.add_argument("--zoo-width", type=float, default=0.125)
    p.add_argument("--train-images", type=int, default=2000, help="training images of the zoo models' one epoch")
    p.add_argument("--zoo-lr", type=float, default=0.01, help="Adam learning rate of that epoch")
    p.add_argument("--full-simplecnn", action="store_true", help="train the SimpleCNN on all 50,000 training images, not the small copy")
    p.add_argument("--only", help="check only these models (comma-separated stems: simplecnn, custom, activations, convolutions, a zoo name)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--logit-tol", type=float, default=1e-4, help="largest logit difference relative to the largest |logit|")
    p.add_argument("--tol", type=float, default=0.01, help="accuracy difference allowed, in points")
    a = p.parse_args(argv)
    try:
        import numpy  # noqa: F401
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as e:
        print(f"onnx_check: skipped ({e})")
        return 0
    if not a.data or not os.path.isfile(os.path.join(a.data, "test_batch.bin")):
        print(f"onnx_check: no CIFAR-10 test_batch.bin in {a.data!r}")
        return 1
    exe = os.path.abspath(a.cnnprune)
    work = a.work_dir or tempfile.mkdtemp(prefix="cnnprune-onnx-")
    os.makedirs(work, exist_ok=True)
    started = time.time()
    pixels, labels = read_cifar(os.path.join(a.data, "test_batch.bin"))
    # The first --train-images training images (`train --subset`): one quick epoch gives BatchNorm
    # real running statistics; evaluation uses the whole test set.
    small = ["--data", a.data, "--subset", str(a.train_images)]
    threads = ["--threads", str(a.threads)]

    def path(name):
        return os.path.join(work, name)

    # (file stem, label, how to make the checkpoint at the given path)
    models = [
        ("simplecnn", "simplecnn", lambda ck: must_run(exe, [
            "train"] + (["--data", a.data] if a.full_simplecnn else small) + ["--epochs", "1", "--seed", "0", "--output", ck] + threads)),
        ("simplecnn-pruned", "simplecnn pruned (conv2 32 → 16)", lambda ck: must_run(exe, [
            "prune", "--model", path("simplecnn.safetensors"), "--layer", "conv2", "--k", "16", "--criterion", "l1",
            "--timing-runs", "1", "--data", a.data, "--output", ck] + threads)),
    ]
    for name in a.zoo.split(","):
        models.append((name, f"{name} ×{a.zoo_width}", lambda ck, name=name: must_run(exe, [
            "train", "--arch", name, "--width-multiplier", str(a.zoo_width)] + small + ["--epochs", "1",
            "--batch-size", "100", "--lr", str(a.zoo_lr), "--seed", "0", "--output", ck] + threads)))
    if "resnet20" in a.zoo.split(","):
        models.append(("resnet20-pruned", f"resnet20 ×{a.zoo_width} pruned (--ratio 0.5 --prune-residual)", lambda ck: must_run(exe, [
            "prune", "--model", path("resnet20.safetensors"), "--ratio", "0.5", "--prune-residual", "--criterion", "l1",
            "--timing-runs", "1", "--data", a.data, "--output", ck] + threads)))
    arch_file = path("custom.json")
    with open(arch_file, "w") as f:
        json.dump(CUSTOM_ARCH, f)
    models.append(("custom", "--arch-file graph (avgpool, dropout, projection, residual without relu)", lambda ck: must_run(exe, [
        "train", "--arch-file", arch_file] + small + ["--epochs", "1", "--batch-size", "100", "--lr", str(a.zoo_lr), "--seed", "0",
        "--output", ck] + threads)))

    activations_file = path("activations.json")
    with open(activations_file, "w") as f:
        json.dump(ACTIVATIONS_ARCH, f)
    models.append(("activations", "--arch-file graph (relu6, leaky-relu, silu, hardswish, hardsigmoid, sigmoid)", lambda ck: must_run(exe, [
        "train", "--arch-file", activations_file] + small + ["--epochs", "1", "--batch-size", "100", "--lr", str(a.zoo_lr), "--seed", "0",
        "--output", ck] + threads)))

    convolutions_file = path("convolutions.json")
    with open(convolutions_file, "w") as f:
        json.dump(CONVOLUTIONS_ARCH, f)
    models.append(("convolutions", "--arch-file graph (depthwise, grouped, dilated, rectangular, uneven padding; padded, ceil-mode pooling)", lambda ck: must_run(exe, [
        "train", "--arch-file", convolutions_file] + small + ["--epochs", "1", "--batch-size", "100", "--lr", str(a.zoo_lr), "--seed", "0",
        "--output", ck] + threads)))

    if a.only:
        models = [m for m in models if m[0] in a.only.split(",")]
    passed = failed = 0
    for stem, label, make in models:
        ck, onnx_path = path(stem + ".safetensors"), path(stem + ".onnx")
        try:
            make(ck)
            problems = compare(label, exe, ck, onnx_path, a.data, pixels, labels, a, work)
        except Exception as e:  # a failed step is a failed check, reported on one line
            print(f"[FAIL] onnx {label}: {e}")
            problems = [str(e)]
        passed, failed = (passed + 1, failed) if not problems else (passed, failed + 1)
    if not a.only or "simplecnn" in a.only.split(","):  # it reads the SimpleCNN's file
        try:
            problems = bad_input_check(exe, work)
        except Exception as e:
            print(f"[FAIL] onnx truncated model file: {e}")
            problems = [str(e)]
        passed, failed = (passed + 1, failed) if not problems else (passed, failed + 1)
    print(f"onnx_check: {time.time() - started:.0f} s; files in {work}")
    if not a.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    print(f"onnx_check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
