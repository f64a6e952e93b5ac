#!/usr/bin/env bash
# Regenerates Sources/CNNExport/Generated/onnx.pb.swift from Protos/onnx.proto with protoc and
# swift-protobuf's protoc-gen-swift, at the version Package.swift pins (1.39.0), public types.
#
#   bash scripts/generate_onnx_proto.sh                      # build protoc-gen-swift in /tmp if needed
#   PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift bash scripts/generate_onnx_proto.sh
#
# Protos/onnx.proto is the file the pip `onnx` wheel ships as onnx/onnx.proto (onnx 1.23.2); to
# move to a newer ONNX, copy that file over it and rerun. Needs protoc (Debian: protobuf-compiler).
set -euo pipefail
cd "$(dirname "$0")/.."
version=1.39.0
command -v protoc >/dev/null || { echo "generate_onnx_proto: protoc is needed (apt-get install protobuf-compiler)"; exit 1; }
plugin="${PROTOC_GEN_SWIFT:-}"
if [ -z "$plugin" ]; then
  source_dir="/tmp/swift-protobuf-$version"
  if [ ! -d "$source_dir" ]; then
    git clone -q --depth 1 --branch "$version" https://github.com/apple/swift-protobuf "$source_dir"
  fi
  (cd "$source_dir" && swift build -c release -j 1 --product protoc-gen-swift 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true)
  plugin="$source_dir/.build/release/protoc-gen-swift"
fi
test -x "$plugin" || { echo "generate_onnx_proto: no protoc-gen-swift at $plugin"; exit 1; }
out=Sources/CNNExport/Generated
mkdir -p "$out"
protoc --plugin=protoc-gen-swift="$plugin" --proto_path=Protos \
  --swift_opt=Visibility=Public --swift_out="$out" Protos/onnx.proto
echo "generate_onnx_proto: wrote $out/onnx.pb.swift"
