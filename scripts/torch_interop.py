#!/usr/bin/env python3
"""PyTorch <-> cnnprune interop check for the SimpleCNN on CIFAR-10 (binary layout).

Needs only torch and numpy (the safetensors format is implemented here, no `safetensors`
package). If torch cannot be imported, the `check` command prints
"torch_interop: skipped (torch not importable)" and exits 0.

Commands
  check [DATA_DIR] [options]      (the default command; DATA_DIR or env CIFAR10_DIR)
      (a) torch -> cnnprune: train the SimpleCNN in torch for --torch-epochs (default 1,
          seed --seed, exactly the first epoch(s) of shared/peer/torch_seed.py) or load
          --torch-model FILE.pt, evaluate it in torch on the 10,000 test images, write it as
          safetensors, run `cnnprune evaluate --model F --data DIR --json`, require
          |torch - cnnprune| <= --tol accuracy points (default 0.01).
      (b) cnnprune -> torch: run `cnnprune train --data DIR --epochs 1 --seed S --output F
          --json` (or take --cnnprune-model FILE), load F into the torch SimpleCNN,
          evaluate in torch, run `cnnprune evaluate` on F, require agreement to --tol.
      --part a|b|both, --cnnprune PATH (default <repo>/.build/release/cnnprune),
      --work-dir DIR (keep the files; default a temporary folder), --threads N (default 2).
      Ends with "torch_interop: N passed, N failed"; exit 0 if none failed, else 1.
  export IN.pt OUT.safetensors    convert a torch state_dict (.pt) to safetensors
  logits MODEL DATA_DIR OUT.json [--count 8]
                                  torch's logits for the first COUNT test images
                                  (MODEL: .safetensors or .pt)
  selftest                        round-trip tests of the safetensors writer/reader
"""
import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------------------
# safetensors, implemented by hand
# ---------------------------------------------------------------------------------------

# safetensors dtype name -> numpy little-endian dtype ('BF16' is handled via uint16 bits)
_ST_NUMPY = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
    "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?",
}
_NUMPY_ST = {np.dtype("float64"): "F64", np.dtype("float32"): "F32", np.dtype("float16"): "F16",
             np.dtype("int64"): "I64", np.dtype("int32"): "I32", np.dtype("int16"): "I16",
             np.dtype("int8"): "I8", np.dtype("uint64"): "U64", np.dtype("uint32"): "U32",
             np.dtype("uint16"): "U16", np.dtype("uint8"): "U8", np.dtype("bool"): "BOOL"}

MAX_HEADER = 100 * 1024 * 1024


class SafetensorsError(ValueError):
    pass


def _to_numpy(t):
    """numpy array (or torch tensor) -> (safetensors dtype, C-contiguous LE numpy array)."""
    if hasattr(t, "detach"):  # torch tensor
        import torch
        t = t.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            return "BF16", t.view(torch.int16).numpy().view(np.uint16).astype("<u2")
        t = t.numpy()
    a = np.asarray(t)
    st = _NUMPY_ST.get(np.dtype(f"{a.dtype.kind}{a.dtype.itemsize}") if a.dtype.kind in "fiub" else None)
    if st is None:
        raise SafetensorsError(f"unsupported dtype {a.dtype}")
    return st, np.array(a, dtype=np.dtype(_ST_NUMPY[st]), order="C", copy=True)


def st_dumps(tensors, metadata=None):
    """Serialise {name: tensor/ndarray} (+ optional {str: str} metadata) to safetensors bytes.
    Tensors are laid out in the given order, contiguously, from offset 0."""
    header, chunks, off = {}, [], 0
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise SafetensorsError("__metadata__ must map str to str")
        header["__metadata__"] = dict(metadata)
    for name, t in tensors.items():
        if name == "__metadata__":
            raise SafetensorsError("'__metadata__' is not a tensor name")
        dt, a = _to_numpy(t)
        b = a.tobytes()
        header[name] = {"dtype": dt, "shape": [int(s) for s in a.shape], "data_offsets": [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(chunks)


def st_save(tensors, path, metadata=None):
    data = st_dumps(tensors, metadata)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return len(data)


def st_loads(data):
    """Parse safetensors bytes -> (OrderedDict name -> numpy array, metadata dict).
    BF16 tensors come back as uint16 bit patterns (st_load_torch turns them into bfloat16)."""
    if len(data) < 8:
        raise SafetensorsError("file shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER or 8 + n > len(data):
        raise SafetensorsError(f"header length {n} exceeds file size {len(data)}")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"header is not valid JSON: {e}")
    if not isinstance(header, dict):
        raise SafetensorsError("header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict):
        raise SafetensorsError("__metadata__ is not an object")
    body = memoryview(data)[8 + n:]
    out, spans = {}, []
    for name, info in header.items():
        try:
            dt, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise SafetensorsError(f"{name}: malformed entry {info!r}")
        if dt not in _ST_NUMPY:
            raise SafetensorsError(f"{name}: unsupported dtype {dt}")
        if not all(isinstance(s, int) and s >= 0 for s in shape):
            raise SafetensorsError(f"{name}: bad shape {shape}")
        npdt = np.dtype(_ST_NUMPY[dt])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if not (isinstance(b, int) and isinstance(e, int) and 0 <= b <= e <= len(body)):
            raise SafetensorsError(f"{name}: data_offsets {[b, e]} outside data section of {len(body)} bytes")
        if e - b != count * npdt.itemsize:
            raise SafetensorsError(f"{name}: {e - b} bytes for shape {shape} {dt} (expected {count * npdt.itemsize})")
        out[name] = np.frombuffer(body[b:e], dtype=npdt).reshape(tuple(shape)).copy()
        spans.append((b, e, name))
    # the format requires the tensors to cover the data section exactly, without holes or overlaps
    pos = 0
    for b, e, name in sorted(spans):
        if b != pos:
            raise SafetensorsError(f"{name}: data starts at {b}, expected {pos} (hole or overlap)")
        pos = e
    if pos != len(body):
        raise SafetensorsError(f"data section has {len(body) - pos} trailing bytes")
    return out, meta


def st_load(path):
    with open(path, "rb") as f:
        return st_loads(f.read())


def st_load_torch(path):
    import torch
    arrs, meta = st_load(path)
    dtypes = _st_dtypes(path)
    out = {}
    for k, a in arrs.items():
        if dtypes[k] == "BF16":
            out[k] = torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
        else:
            out[k] = torch.from_numpy(a)
    return out, meta, dtypes


def _st_dtypes(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        h = json.loads(f.read(n).decode("utf-8"))
    return {k: v["dtype"] for k, v in h.items() if k != "__metadata__"}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------
# SimpleCNN and CIFAR-10 (as in shared/peer/torch_seed.py)
# ---------------------------------------------------------------------------------------

EXPECTED = {
    "conv1.weight": [16, 3, 3, 3], "conv1.bias": [16],
    "conv2.weight": [32, 16, 3, 3], "conv2.bias": [32],
    "fc1.weight": [256, 2048], "fc1.bias": [256],
    "fc2.weight": [10, 256], "fc2.bias": [10],
}
METADATA = {"format": "pt", "architecture": "SimpleCNN",
            "layers": "conv1 3>16 k3p1, pool2, conv2 16>32 k3p1, pool2, fc1 2048>256, fc2 256>10",
            "input": "NCHW 3x32x32, (x/255-0.5)/0.5"}


def _torch():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class SimpleCNN(nn.Module):
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
            x = x.view(-1, 32 * 8 * 8)
            return self.fc2(F.relu(self.fc1(x)))

    return torch, nn, F, SimpleCNN


def load_cifar(data_dir, names):
    import torch
    raws = []
    for n in names:
        p = os.path.join(data_dir, n)
        raw = np.fromfile(p, dtype=np.uint8)
        if raw.size % 3073:
            raise SystemExit(f"torch_interop: {p}: size {raw.size} is not a multiple of 3073")
        raws.append(raw.reshape(-1, 3073))
    raw = np.concatenate(raws)
    x = torch.from_numpy(raw[:, 1:].astype(np.float32).reshape(-1, 3, 32, 32) / 255.0)
    x = (x - 0.5) / 0.5
    y = torch.from_numpy(raw[:, 0].astype(np.int64))
    return x, y


def torch_eval(model, x, y):
    """-> (accuracy %, correct, total, per-class accuracy %) on (x, y), batch 64 as the peer."""
    import torch
    model.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, len(x), 64):
            preds.append(model(x[i:i + 64]).argmax(1))
    p = torch.cat(preds)
    ok = p == y
    correct = int(ok.sum())
    per = [100.0 * float(ok[y == c].sum()) / max(1, int((y == c).sum())) for c in range(10)]
    return 100.0 * correct / len(y), correct, len(y), per


def torch_train(data_dir, epochs, seed):
    """The first `epochs` epochs of shared/peer/torch_seed.py (same seeding and batch order)."""
    torch, nn, _, SimpleCNN = _torch()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    xtr, ytr = load_cifar(data_dir, [f"data_batch_{i}.bin" for i in range(1, 6)])
    model = SimpleCNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    crit = nn.CrossEntropyLoss()
    for ep in range(epochs):
        model.train()
        t0 = time.perf_counter(); tot = 0.0; n = 0
        idx = torch.randperm(len(xtr), generator=gen)
        for i in range(0, len(xtr), 64):
            j = idx[i:i + 64]
            xb, yb = xtr[j], ytr[j]
            loss = crit(model(xb), yb); opt.zero_grad(); loss.backward(); opt.step()
            tot += loss.item() * len(xb); n += len(xb)
        dt = time.perf_counter() - t0
        print(f"  torch epoch {ep + 1}: loss {tot / n:.4f}, {dt:.1f} s ({n / dt:.0f} img/s)", flush=True)
    return model


def state_dict_from_any(obj):
    """A .pt payload (state_dict, {'state_dict': ...}, or an nn.Module) -> {name: tensor}."""
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        obj = obj.state_dict()
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in obj.items()}
    return sd


def load_pt(path):
    import torch
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # very old torch without weights_only
        obj = torch.load(path, map_location="cpu")
    return state_dict_from_any(obj)


def check_names(sd, what):
    """Exactly the SimpleCNN names and shapes, or SystemExit with the differences."""
    probs = []
    for k, shape in EXPECTED.items():
        if k not in sd:
            probs.append(f"missing {k}")
        elif list(sd[k].shape) != shape:
            probs.append(f"{k}: shape {list(sd[k].shape)}, expected {shape}")
    probs += [f"unexpected tensor {k}" for k in sd if k not in EXPECTED]
    if probs:
        raise SystemExit(f"torch_interop: {what}: not a SimpleCNN state_dict: " + "; ".join(probs))


def model_from_file(path):
    """.safetensors or .pt -> SimpleCNN in eval mode (float32)."""
    torch, _, _, SimpleCNN = _torch()
    if path.endswith(".pt") or path.endswith(".pth"):
        sd, dtypes = load_pt(path), None
    else:
        sd, _meta, dtypes = st_load_torch(path)
    check_names(sd, path)
    if dtypes and any(d != "F32" for d in dtypes.values()):
        print(f"  note: {path} holds dtypes {sorted(set(dtypes.values()))}; converted to float32")
    model = SimpleCNN()
    model.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
    model.eval()
    return model


def export_model(model_or_sd, out, extra_meta=None):
    """Write a SimpleCNN state_dict as safetensors (canonical name order), verify by reading back."""
    import torch
    sd = model_or_sd.state_dict() if hasattr(model_or_sd, "state_dict") else model_or_sd
    check_names(sd, "export")
    tensors = {k: sd[k].detach().cpu().float().contiguous() for k in EXPECTED}
    meta = dict(METADATA, torch=torch.__version__)
    meta.update(extra_meta or {})
    st_save(tensors, out, meta)
    back, _ = st_load(out)
    for k, t in tensors.items():
        if back[k].tobytes() != t.numpy().astype("<f4").tobytes():
            raise SystemExit(f"torch_interop: export round trip differs at {k}")
    return out


# ---------------------------------------------------------------------------------------
# cnnprune
# ---------------------------------------------------------------------------------------

def parse_json_output(text):
    text = text.strip()
    try:
        obj = json.loads(text)
        if isinstance(obj, dict):
            return obj
    except json.JSONDecodeError:
        pass
    for line in reversed(text.splitlines()):  # tolerate log lines before the JSON object
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    start = text.find("{")
    if start >= 0:
        try:
            return json.loads(text[start:])
        except json.JSONDecodeError:
            pass
    return None


def run_cnnprune(exe, args, timeout):
    cmd = [exe] + args
    print("  $ " + " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s", time.perf_counter() - t0
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        return None, f"exit {p.returncode}; stderr: {p.stderr.strip()[-2000:]}; stdout: {p.stdout.strip()[-1000:]}", dt
    obj = parse_json_output(p.stdout)
    if obj is None:
        return None, f"no JSON object on stdout: {p.stdout.strip()[-1000:]!r}", dt
    return obj, None, dt


def cnnprune_evaluate(exe, model_path, data_dir, timeout):
    obj, err, dt = run_cnnprune(exe, ["evaluate", "--model", model_path, "--data", data_dir, "--json"], timeout)
    if err:
        return None, err, dt
    if not isinstance(obj.get("accuracy"), (int, float)):
        return None, f"no numeric 'accuracy' in {obj}", dt
    return obj, None, dt


def compare(label, torch_res, cp, tol):
    acc, correct, total, per = torch_res
    ok = True
    msgs = [f"  torch    accuracy {acc:.2f}% ({correct}/{total})"]
    cacc = float(cp["accuracy"])
    cc = cp.get("correct"); ct = cp.get("total")
    msgs.append(f"  cnnprune accuracy {cacc:.2f}%" + (f" ({cc}/{ct})" if cc is not None else ""))
    diff = abs(acc - cacc)
    if diff > tol + 1e-9:
        ok = False
    if ct is not None and ct != total:
        ok = False
        msgs.append(f"  total differs: torch {total}, cnnprune {ct}")
    pc = cp.get("per_class")
    if isinstance(pc, list) and len(pc) == 10:
        values = [float(b["accuracy"]) if isinstance(b, dict) else float(b) for b in pc]
        worst = max(abs(a - b) for a, b in zip(per, values))
        msgs.append(f"  per-class max |diff| {worst:.2f} points (informational)")
    msgs.append(f"  |diff| {diff:.4f} points (tolerance {tol})  {'OK' if ok else 'MISMATCH'}")
    print(f"[{'PASS' if ok else 'FAIL'}] {label}")
    print("\n".join(msgs), flush=True)
    return ok


# ---------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------

def find_data_dir(arg):
    cands = [arg, os.environ.get("CIFAR10_DIR"),
             os.path.join(os.path.dirname(REPO), "shared", "cifar-10-batches-bin")]
    for c in cands:
        if c and os.path.isfile(os.path.join(c, "test_batch.bin")):
            return os.path.abspath(c)
    raise SystemExit("torch_interop: CIFAR-10 binary data not found (pass DATA_DIR or set CIFAR10_DIR); "
                     f"tried {[c for c in cands if c]}")


def cmd_check(a):
    try:
        import torch  # noqa: F401
    except Exception as e:  # ImportError, or a broken install (OSError on a missing .so)
        print("torch_interop: skipped (torch not importable)")
        print(f"  ({type(e).__name__}: {str(e)[:300]})")
        return 0
    torch, _, _, _ = _torch()
    torch.set_num_threads(a.threads)
    data = find_data_dir(a.data)
    exe = a.cnnprune or os.path.join(REPO, ".build", "release", "cnnprune")
    print(f"torch_interop: torch {torch.__version__}, data {data}, cnnprune {exe}", flush=True)
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        print(f"torch_interop: cnnprune binary not found or not executable: {exe} "
              "(build it with `swift build -c release` or pass --cnnprune PATH)")
        print("torch_interop: 0 passed, 1 failed")
        return 1
    work = a.work_dir or tempfile.mkdtemp(prefix="torch_interop.")
    os.makedirs(work, exist_ok=True)
    xte, yte = load_cifar(data, ["test_batch.bin"])
    passed = failed = 0

    if a.part in ("a", "both"):
        print("\n== (a) torch model -> safetensors -> cnnprune evaluate", flush=True)
        if a.torch_model:
            print(f"  loading {a.torch_model}")
            model = model_from_file(a.torch_model)
            src = os.path.basename(a.torch_model)
        else:
            print(f"  training in torch: {a.torch_epochs} epoch(s), seed {a.seed}", flush=True)
            model = torch_train(data, a.torch_epochs, a.seed)
            src = f"torch_interop train epochs={a.torch_epochs} seed={a.seed}"
        t0 = time.perf_counter()
        res = torch_eval(model, xte, yte)
        print(f"  torch eval {time.perf_counter() - t0:.2f} s")
        st = os.path.join(work, "torch_model.safetensors")
        export_model(model, st, {"source": src})
        print(f"  wrote {st} (sha256 {sha256(st)[:16]}…)")
        cp, err, dt = cnnprune_evaluate(exe, st, data, a.timeout)
        if err:
            print(f"[FAIL] (a) cnnprune evaluate on the torch model: {err}")
            failed += 1
        else:
            print(f"  cnnprune evaluate {dt:.2f} s")
            if compare("(a) torch-made model: torch vs cnnprune evaluate", res, cp, a.tol):
                passed += 1
            else:
                failed += 1

    if a.part in ("b", "both"):
        print("\n== (b) cnnprune checkpoint -> torch", flush=True)
        ok_b = True
        if a.cnnprune_model:
            ck = a.cnnprune_model
        else:
            ck = os.path.join(work, "cnnprune_model.safetensors")
            obj, err, dt = run_cnnprune(exe, ["train", "--data", data, "--epochs", str(a.cnnprune_epochs),
                                              "--seed", str(a.seed), "--output", ck, "--json"], a.timeout)
            if err:
                print(f"[FAIL] (b) cnnprune train: {err}")
                failed += 1; ok_b = False
            else:
                summary = {k: v for k, v in obj.items() if not isinstance(v, (list, dict))}
                print(f"  cnnprune train {dt:.1f} s; its JSON (scalars): {json.dumps(summary)[:400]}")
        if ok_b:
            try:
                _, meta, dtypes = st_load_torch(ck)
                if meta:
                    print(f"  __metadata__ (ignored): {json.dumps(meta)[:300]}")
                model = model_from_file(ck)
            except (SafetensorsError, SystemExit, OSError, RuntimeError) as e:
                print(f"[FAIL] (b) loading {ck} into torch: {e}")
                failed += 1; ok_b = False
        if ok_b:
            res = torch_eval(model, xte, yte)
            cp, err, dt = cnnprune_evaluate(exe, ck, data, a.timeout)
            if err:
                print(f"[FAIL] (b) cnnprune evaluate on its own checkpoint: {err}")
                failed += 1
            elif compare("(b) cnnprune-made model: torch vs cnnprune evaluate", res, cp, a.tol):
                passed += 1
            else:
                failed += 1

    if not a.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"\n  files kept in {work}")
    print(f"\ntorch_interop: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def cmd_export(a):
    import torch
    sd = load_pt(a.input)
    check_names(sd, a.input)
    export_model(sd, a.output, {"source": os.path.basename(a.input)})
    print(f"torch_interop: wrote {a.output} ({os.path.getsize(a.output)} bytes, sha256 {sha256(a.output)}, "
          f"torch {torch.__version__})")
    return 0


def cmd_logits(a):
    torch, _, F, _ = _torch()
    torch.set_num_threads(a.threads)
    model = model_from_file(a.model)
    x, y = load_cifar(find_data_dir(a.data), ["test_batch.bin"])
    x, y = x[:a.count], y[:a.count]
    with torch.no_grad():
        h1 = model.pool(F.relu(model.conv1(x)))
        h2 = model.pool(F.relu(model.conv2(h1)))
        f1 = F.relu(model.fc1(h2.reshape(-1, 2048)))
        logits = model.fc2(f1)
        ref = model(x)
    assert torch.equal(logits, ref)
    out = {
        "model": os.path.basename(a.model),
        "model_sha256": sha256(a.model),
        "torch": torch.__version__,
        "data": "test_batch.bin, first records in file order",
        "normalisation": "(x/255-0.5)/0.5, NCHW, planes R,G,B",
        "count": int(len(y)),
        "labels": y.tolist(),
        "argmax": logits.argmax(1).tolist(),
        "logits": [[float(v) for v in row] for row in logits],
        # per image sums of intermediate activations, to localise a mismatch
        "sum_pool1": [float(v) for v in h1.sum(dim=(1, 2, 3))],
        "sum_pool2": [float(v) for v in h2.sum(dim=(1, 2, 3))],
        "sum_fc1_relu": [float(v) for v in f1.sum(dim=1)],
    }
    with open(a.output, "w") as f:
        json.dump(out, f, indent=1)
    print(f"torch_interop: wrote {a.output} ({len(y)} images, argmax {out['argmax']}, labels {out['labels']})")
    return 0


def cmd_selftest(a):
    rng = np.random.default_rng(0)
    failures = []

    def check(name, cond):
        print(f"  {'ok  ' if cond else 'FAIL'} {name}")
        if not cond:
            failures.append(name)

    # 1. SimpleCNN-shaped float32 tensors + metadata
    tensors = {k: rng.standard_normal(s).astype(np.float32) for k, s in EXPECTED.items()}
    data = st_dumps(tensors, METADATA)
    (n,) = struct.unpack("<Q", data[:8])
    check("header length is a multiple of 8", n % 8 == 0)
    check("header padded with spaces", data[8:8 + n].rstrip(b" ") == data[8:8 + n].rstrip())
    back, meta = st_loads(data)
    check("names and order preserved", list(back) == list(tensors))
    check("values bit-identical", all(back[k].tobytes() == tensors[k].tobytes() for k in tensors))
    check("shapes preserved", all(list(back[k].shape) == EXPECTED[k] for k in tensors))
    check("metadata preserved", meta == METADATA)
    check("file size = 8 + N + 4*params",
          len(data) == 8 + n + 4 * sum(int(np.prod(s)) for s in EXPECTED.values()))
    # 2. other dtypes, scalars and empty tensors, no metadata
    misc = {"f64": rng.standard_normal((2, 3)), "i64": np.arange(5, dtype=np.int64),
            "u8": np.arange(7, dtype=np.uint8), "b": np.array([True, False, True]),
            "f16": np.array([1.5, -2.25], dtype=np.float16), "scalar": np.array(3.0, dtype=np.float32),
            "empty": np.zeros((0, 4), dtype=np.float32)}
    back, meta = st_loads(st_dumps(misc))
    check("mixed dtypes round trip", all(back[k].dtype == np.asarray(misc[k]).dtype and
                                         np.array_equal(back[k], misc[k]) for k in misc) and meta == {})
    # 3. big-endian input is written little-endian
    be = np.arange(4, dtype=">f4")
    raw = st_dumps({"x": be})
    check("big-endian input stored little-endian", raw[-16:] == np.arange(4, dtype="<f4").tobytes())
    # 4. header whose key order differs from data order (as other writers may produce)
    hdr = {"__metadata__": {"a": "b"}, "z": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
           "y": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    h = json.dumps(hdr).encode()
    blob = struct.pack("<Q", len(h)) + h + np.array([1, 2], dtype="<f4").tobytes()
    back, meta = st_loads(blob)
    check("foreign key order, unpadded header", back["y"][0] == 1 and back["z"][0] == 2 and meta == {"a": "b"})
    # 5. malformed files are rejected
    good = st_dumps({"w": np.ones(4, dtype=np.float32)})
    (gn,) = struct.unpack("<Q", good[:8])

    def rejects(blob):
        try:
            st_loads(blob)
            return False
        except SafetensorsError:
            return True

    def with_header(hd, body):
        hh = json.dumps(hd).encode()
        return struct.pack("<Q", len(hh)) + hh + body

    body4 = np.ones(4, dtype="<f4").tobytes()
    check("rejects truncated data", rejects(good[:-1]))
    check("rejects trailing bytes", rejects(good + b"\0\0\0\0"))
    check("rejects header length past EOF", rejects(struct.pack("<Q", 1 << 40) + good[8:]))
    check("rejects short file", rejects(b"\1\0\0"))
    check("rejects wrong byte count",
          rejects(with_header({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}}, body4)))
    check("rejects hole",
          rejects(with_header({"w": {"dtype": "F32", "shape": [3], "data_offsets": [4, 16]}}, body4)))
    check("rejects overlap",
          rejects(with_header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                               "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, body4)))
    check("rejects unknown dtype",
          rejects(with_header({"w": {"dtype": "F8", "shape": [16], "data_offsets": [0, 16]}}, body4)))
    check("rejects non-JSON header", rejects(struct.pack("<Q", 8) + b"not json" + body4))
    # 6. with torch: a real SimpleCNN through export / model_from_file / bfloat16
    try:
        import torch
    except Exception:
        print("  (torch not importable: torch round trips skipped)")
    else:
        _, _, _, SimpleCNN = _torch()
        torch.manual_seed(1)
        m = SimpleCNN()
        d = tempfile.mkdtemp(prefix="torch_interop_selftest.")
        try:
            pt = os.path.join(d, "m.pt"); st = os.path.join(d, "m.safetensors")
            torch.save(m.state_dict(), pt)
            export_model(load_pt(pt), st)
            m2 = model_from_file(st)
            check("torch export -> load: state_dict equal",
                  all(torch.equal(m.state_dict()[k], m2.state_dict()[k]) for k in EXPECTED))
            x = torch.randn(3, 3, 32, 32)
            m.eval()
            with torch.no_grad():
                check("torch export -> load: identical logits", torch.equal(m(x), m2(x)))
            bf = {"w": torch.randn(5).to(torch.bfloat16)}
            st_save(bf, st)
            back, _, dts = st_load_torch(st)
            check("bfloat16 round trip", dts["w"] == "BF16" and torch.equal(back["w"], bf["w"]))
            try:
                import safetensors.torch as official  # optional cross-check, never required
            except Exception:
                print("  (safetensors package not installed: cross-check with it skipped)")
            else:
                export_model(m, st)
                ref = official.load_file(st)
                check("official safetensors reads our file",
                      all(torch.equal(ref[k], m.state_dict()[k]) for k in EXPECTED))
                official.save_file({k: v.contiguous() for k, v in m.state_dict().items()}, st,
                                   metadata={"format": "pt"})
                back, meta, _ = st_load_torch(st)
                check("we read the official library's file",
                      all(torch.equal(back[k], m.state_dict()[k]) for k in EXPECTED) and meta == {"format": "pt"})
        finally:
            shutil.rmtree(d, ignore_errors=True)
    print(f"selftest: {len(failures)} failed" if failures else "selftest: all passed")
    return 1 if failures else 0


def main(argv):
    cmds = {"check", "export", "logits", "selftest"}
    if not argv or argv[0] not in cmds and argv[0] not in ("-h", "--help"):
        argv = ["check"] + argv
    p = argparse.ArgumentParser(prog="torch_interop.py", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="torch <-> cnnprune accuracy agreement (default command)")
    c.add_argument("data", nargs="?", help="CIFAR-10 binary folder (default: $CIFAR10_DIR)")
    c.add_argument("--data", dest="data_opt", help=argparse.SUPPRESS)
    c.add_argument("--cnnprune", help="cnnprune binary (default <repo>/.build/release/cnnprune)")
    c.add_argument("--torch-model", help="(a): a .pt (or .safetensors) SimpleCNN instead of training in torch")
    c.add_argument("--torch-epochs", type=int, default=1, help="(a): torch training epochs (default 1)")
    c.add_argument("--cnnprune-model", help="(b): a cnnprune safetensors checkpoint instead of `cnnprune train`")
    c.add_argument("--cnnprune-epochs", type=int, default=1, help="(b): epochs for `cnnprune train` (default 1)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--part", choices=["a", "b", "both"], default="both")
    c.add_argument("--tol", type=float, default=0.01, help="allowed |accuracy difference| in points (0.01)")
    c.add_argument("--threads", type=int, default=2)
    c.add_argument("--timeout", type=float, default=3600, help="seconds per cnnprune command")
    c.add_argument("--work-dir", help="keep the safetensors files here")
    e = sub.add_parser("export", help="convert a .pt state_dict to .safetensors")
    e.add_argument("input"); e.add_argument("output")
    lg = sub.add_parser("logits", help="torch logits of the first COUNT test images, as JSON")
    lg.add_argument("model"); lg.add_argument("data"); lg.add_argument("output")
    lg.add_argument("--count", type=int, default=8)
    lg.add_argument("--threads", type=int, default=2)
    sub.add_parser("selftest", help="round-trip tests of the safetensors writer/reader")
    a = p.parse_args(argv)
    if a.cmd == "check":
        a.data = a.data_opt or a.data
        return cmd_check(a)
    if a.cmd in ("export", "logits"):
        try:
            import torch  # noqa: F401
        except Exception as ex:
            print(f"torch_interop: {a.cmd} needs torch ({type(ex).__name__}: {ex})", file=sys.stderr)
            return 2
    return {"export": cmd_export, "logits": cmd_logits, "selftest": cmd_selftest}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
