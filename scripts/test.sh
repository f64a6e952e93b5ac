#!/usr/bin/env bash
# The test command: installs what is needed, then runs the unit tests (release build: the
# engine is far too slow in debug), the PyTorch interop check when torch can be imported
# (python: $TORCH_PYTHON, else python3), the integration tests when $CIFAR10_DIR is set, the
# ONNX export check against onnxruntime (scripts/onnx_check.py; python: $ONNX_PYTHON, else
# $TORCH_PYTHON, else python3) when onnx and onnxruntime import, the hostile-input suite
# (scripts/hostile_check.py) when $CIFAR10_DIR is set, and the Fashion-MNIST check
# (scripts/fashion_mnist_check.sh) when $FASHION_MNIST_DIR is set. Before the tests: the example
# package built against a tagged clone by version (scripts/example_check.sh) and the
# documentation, DocC without warnings and every public symbol documented (scripts/docs_check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --packages-only
# Before the tests, so that their summaries stay at the end of the log.
bash scripts/example_check.sh
# swift-docc-plugin is a dependency in Package.swift; the check is skipped only when its command
# is not there (a package resolved without it).
if swift package plugin --list 2>/dev/null | grep -q "generate-documentation"; then
  bash scripts/docs_check.sh
else
  echo "docs_check: skipped (swift-docc-plugin's generate-documentation command is not available)"
fi
swift test -c release --disable-xctest
test -x .build/release/cnnprune || { echo "test: swift test did not build .build/release/cnnprune"; exit 1; }
if [ -n "${CIFAR10_DIR:-}" ] && [ -d "${CIFAR10_DIR}" ]; then
  "${TORCH_PYTHON:-python3}" scripts/torch_interop.py check "$CIFAR10_DIR" --cnnprune .build/release/cnnprune
else
  echo "torch_interop: skipped (CIFAR10_DIR is not set)"
fi
onnx_python="${ONNX_PYTHON:-${TORCH_PYTHON:-python3}}"
if [ -z "${CIFAR10_DIR:-}" ] || [ ! -d "${CIFAR10_DIR}" ]; then
  echo "onnx_check: skipped (CIFAR10_DIR is not set)"
elif ! "$onnx_python" -c 'import numpy, onnx, onnxruntime' 2>/dev/null; then
  echo "onnx_check: skipped (numpy, onnx or onnxruntime cannot be imported by $onnx_python)"
else
  "$onnx_python" scripts/onnx_check.py "$CIFAR10_DIR" --cnnprune .build/release/cnnprune
fi
# The hostile-input suite (issue 30): bad sizes, output paths, resumes, readers, messages; Pillow
# (for its JPEG case) from the same Python as the ONNX check when it has it.
if [ -n "${CIFAR10_DIR:-}" ] && [ -d "${CIFAR10_DIR}" ]; then
  hostile_python="$onnx_python"
  "$hostile_python" -c 'import PIL' 2>/dev/null || hostile_python=python3
  "$hostile_python" scripts/hostile_check.py "$CIFAR10_DIR" --cnnprune .build/release/cnnprune
else
  echo "hostile_check: skipped (CIFAR10_DIR is not set)"
fi
bash scripts/fashion_mnist_check.sh
