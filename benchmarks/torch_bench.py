#!/usr/bin/env python3
"""PyTorch (and ONNX Runtime) side of benchmarks/compare.py: times one architecture's training
epoch and the 10,000-image evaluation, as cnnprune runs them, and prints one JSON object.

The models are the ones the interop check compares against cnnprune (scripts/torch_interop.py:
`zoo_model()` for vgg11-bn and the ResNets; the exercise's SimpleCNN, flattened with
`flatten(1)` so that it also runs in `channels_last`). Inputs are CIFAR-10 binary batches
normalised with mean 0.5 and std 0.5, no augmentation, the training order a seeded shuffle.

  python3 benchmarks/torch_bench.py DATA_DIR --arch resnet20 [--subset N] [--batch-size 128]
      [--optimizer sgd --lr 0.1 --momentum 0.9] [--threads 2] [--memory-format channels_last]
      [--eval-batch 128] [--onnx]

--memory-format: `contiguous` (eager NCHW) or `channels_last` (model and every batch converted
with `.to(memory_format=torch.channels_last)`). --onnx: instead of training, exports the
(freshly initialised, evaluation-mode) model with `torch.onnx.export` and times ONNX Runtime
over the test set at batch 64 and batch 1000 with --threads intra-op threads; prints
{"onnx": "skipped: …"} when onnxruntime (or the export) is unavailable.
"""
import argparse, json, os, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))


def simple_cnn():
    import torch.nn as nn
    import torch.nn.functional as F

    class SimpleCNN(nn.Module):
        """The exercise's network (conv 3→16, 16→32, 3×3 pad 1, each ReLU + 2×2 max-pool; fc 2048→256, 256→10)."""
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 3, 1, 1)
            self.conv2 = nn.Conv2d(16, 32, 3, 1, 1)
            self.pool = nn.MaxPool2d(2, 2)
            self.fc1 = nn.Linear(32 * 8 * 8, 256)
            self.fc2 = nn.Linear(256, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            return self.fc2(F.relu(self.fc1(x.flatten(1))))

    return SimpleCNN()


def build(arch):
    if arch == "simplecnn":
        return simple_cnn()
    from torch_interop import zoo_model
    return zoo_model(arch)


def load(data_dir, names):
    import numpy as np
    import torch
    raw = np.concatenate([np.fromfile(os.path.join(data_dir, n), dtype=np.uint8).reshape(-1, 3073) for n in names])
    x = torch.from_numpy(raw[:, 1:].astype(np.float32).reshape(-1, 3, 32, 32) / 255.0)
    return (x - 0.5) / 0.5, torch.from_numpy(raw[:, 0].astype(np.int64))


def evaluate(model, x, y, batch, memory_format):
    import torch
    model.eval()
    correct = 0
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = x[i:i + batch].contiguous(memory_format=memory_format)
            correct += int((model(xb).argmax(1) == y[i:i + batch]).sum())
    return time.perf_counter() - start, 100.0 * correct / len(x)


def onnx_eval(model, x, y, threads):
    """Exports `model` to ONNX and times ONNX Runtime over (x, y) at batch 64 and 1000."""
    import torch
    try:
        import onnxruntime as ort
    except ImportError:
        return "skipped: onnxruntime is not importable"
    model.eval()
    path = os.path.join(tempfile.mkdtemp(prefix="cnnprune-onnx-"), "model.onnx")
    sample = x[:2].contiguous()
    errors = []
    for dynamo in (False, True):  # the TorchScript exporter first; the dynamo one when it is gone
        try:
            torch.onnx.export(model, (sample,), path, input_names=["x"], output_names=["logits"],
                              dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, dynamo=dynamo)
            break
        except Exception as error:  # noqa: BLE001 - report why, then try the other exporter
            errors.append(f"dynamo={dynamo}: {type(error).__name__}: {str(error)[:200]}")
    else:
        return "skipped: torch.onnx.export failed (" + "; ".join(errors) + ")"
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    inputs = x.numpy()
    labels = y.numpy()
    result = {"onnxruntime": ort.__version__}
    for batch in (64, 1000):
        correct = 0
        start = time.perf_counter()
        for i in range(0, len(inputs), batch):
            logits = session.run(None, {"x": inputs[i:i + batch]})[0]
            correct += int((logits.argmax(1) == labels[i:i + batch]).sum())
        seconds = time.perf_counter() - start
        result[f"batch_{batch}"] = {"eval_seconds": seconds, "images_per_second": len(inputs) / seconds,
                                    "test_accuracy": 100.0 * correct / len(inputs)}
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--arch", default="simplecnn")
    ap.add_argument("--subset", type=int, help="train on the first N training images")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory-format", choices=["contiguous", "channels_last"], default="contiguous")
    ap.add_argument("--eval-batch", type=int, default=128)
    ap.add_argument("--onnx", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = build(a.arch)
    xte, yte = load(a.data, ["test_batch.bin"])
    if a.onnx:
        print(json.dumps({"onnx": onnx_eval(model, xte, yte, a.threads)}))
        return
    memory_format = torch.channels_last if a.memory_format == "channels_last" else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    xtr, ytr = load(a.data, [f"data_batch_{i}.bin" for i in range(1, 6)])
    if a.subset:
        xtr, ytr = xtr[:a.subset], ytr[:a.subset]
    if a.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(a.seed))
    model.train()
    total, start = 0.0, time.perf_counter()
    for i in range(0, len(xtr), a.batch_size):
        j = order[i:i + a.batch_size]
        xb = xtr[j].contiguous(memory_format=memory_format)
        loss = loss_fn(model(xb), ytr[j])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(j)
    seconds = time.perf_counter() - start
    eval_seconds, accuracy = evaluate(model, xte, yte, a.eval_batch, memory_format)
    print(json.dumps({"torch": torch.__version__, "arch": a.arch, "memory_format": a.memory_format,
                      "train_images": len(xtr), "epoch_seconds": seconds, "images_per_second": len(xtr) / seconds,
                      "train_loss": total / len(xtr), "eval_seconds": eval_seconds, "test_accuracy": accuracy}))


if __name__ == "__main__":
    main()
