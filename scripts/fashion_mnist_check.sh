#!/usr/bin/env bash
# Integration check on real data: Fashion-MNIST from $FASHION_MNIST_DIR (CI installs the Debian
# package dataset-fashion-mnist, files in /usr/share/datasets/fashion-mnist). The SimpleCNN
# trained for 2 epochs must reach at least 85 % test accuracy; then the conv2 sweep, the
# sensitivity analysis and channel removal (prune) must run on it, and evaluating the 1×28×28
# model on data of another shape must fail with one line. Uses the release binary.
#
#   FASHION_MNIST_DIR=/usr/share/datasets/fashion-mnist bash scripts/fashion_mnist_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${FASHION_MNIST_DIR:-}" ] || [ ! -d "${FASHION_MNIST_DIR}" ]; then
  echo "fashion-mnist check: skipped (FASHION_MNIST_DIR is not set; apt-get install dataset-fashion-mnist and set it to /usr/share/datasets/fashion-mnist)"
  exit 0
fi
bin=.build/release/cnnprune
[ -x "$bin" ] || swift build -c release --product cnnprune
work=$(mktemp -d /tmp/cnnprune-fashion-XXXXXX)
trap 'rm -rf "$work"' EXIT
data=(--dataset fashion-mnist --data "$FASHION_MNIST_DIR")

start=$(date +%s)
"$bin" train "${data[@]}" --epochs 2 --output "$work/model.safetensors" --json > "$work/train.json"
accuracy=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["test_accuracy"])' "$work/train.json")
echo "fashion-mnist check: 2 epochs, test accuracy $accuracy % ($(( $(date +%s) - start )) s)"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 85 else 1)' "$accuracy" \
  || { echo "fashion-mnist check: FAILED, accuracy $accuracy % is below 85 %" >&2; exit 1; }

"$bin" evaluate "${data[@]}" --model "$work/model.safetensors" --json > "$work/evaluate.json"
python3 - "$work/evaluate.json" "$accuracy" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
assert abs(report["accuracy"] - float(sys.argv[2])) < 0.011, (report["accuracy"], sys.argv[2])
assert report["total"] == 10000, report["total"]
assert [c["class"] for c in report["per_class"]][:2] == ["T-shirt/top", "Trouser"], report["per_class"]
PY
"$bin" sweep "${data[@]}" --model "$work/model.safetensors" --layer conv2 --k 0:32:8 --output "$work/sweep" > "$work/sweep.txt"
test -s "$work/sweep/sweep.json"
"$bin" sensitivity "${data[@]}" --model "$work/model.safetensors" --output "$work/sensitivity" > "$work/sensitivity.txt"
"$bin" prune "${data[@]}" --model "$work/model.safetensors" --layer conv2 --k 16 --criterion l1 --output "$work/pruned.safetensors" > "$work/prune.txt"
"$bin" evaluate "${data[@]}" --model "$work/pruned.safetensors" --json > "$work/pruned.json"
pruned=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accuracy"])' "$work/pruned.json")
echo "fashion-mnist check: sweep, sensitivity and prune ran; conv2 with 16 of 32 channels removed: $pruned %"
python3 - "$work/model.safetensors" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
header = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])
dataset = json.loads(header["__metadata__"]["cnnprune.dataset"])
assert dataset["dataset"] == "fashion-mnist" and dataset["shape"] == [1, 28, 28], dataset
assert header["fc1.weight"]["shape"] == [256, 32 * 7 * 7], header["fc1.weight"]
PY

# The 1×28×28 model on 3×32×32 images: one line, non-zero exit.
python3 - "$work/folder" <<'PY'
import os, struct, sys, zlib
def png(path, w, h):
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = b"".join(b"\0" + bytes((x * 8 + y) % 256 for x in range(w * 3)) for y in range(h))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for split in ("train", "test"):
    for c in ("a", "b"):
        os.makedirs(f"{sys.argv[1]}/{split}/{c}", exist_ok=True)
        png(f"{sys.argv[1]}/{split}/{c}/0.png", 32, 32)
PY
if "$bin" evaluate --dataset folder --data "$work/folder" --model "$work/model.safetensors" > /dev/null 2> "$work/mismatch.txt"; then
  echo "fashion-mnist check: FAILED, a 1×28×28 model evaluated 3×32×32 images" >&2; exit 1
fi
[ "$(wc -l < "$work/mismatch.txt")" -eq 1 ] || { echo "fashion-mnist check: FAILED, the shape error is not one line:" >&2; cat "$work/mismatch.txt" >&2; exit 1; }
echo "fashion-mnist check: passed ($(( $(date +%s) - start )) s; shape mismatch reported as: $(cat "$work/mismatch.txt"))"
