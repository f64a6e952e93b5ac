#!/usr/bin/env bash
# Installs what cnnprune needs on a Debian/Ubuntu machine (OpenBLAS, zlib, libpng, libjpeg, pkg-config;
# and oneDNN's runtime, libdnnl2, which the engine loads for its matrix products when present) and
# builds the release binary. Idempotent: packages already present are not reinstalled.
# --packages-only: install the packages and stop (scripts/test.sh: `swift test -c release` builds
# the binary itself, with testable imports, so a separate plain release build would be compiled
# for nothing).
set -euo pipefail
packages_only=false
[ "${1:-}" = "--packages-only" ] && packages_only=true
cd "$(dirname "$0")/.."
missing=()
for pkg in libopenblas-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# oneDNN is optional (the engine falls back to OpenBLAS without it), so a failed install only warns.
if ! dpkg -s libdnnl2 >/dev/null 2>&1; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq libdnnl2 >/dev/null; } \
    || echo "setup: libdnnl2 (oneDNN) could not be installed; matrix products will run on OpenBLAS"
fi
command -v swift >/dev/null || { echo "setup: Swift 6 is needed (https://swift.org/install)"; exit 1; }
$packages_only && exit 0
swift build -c release --product cnnprune 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x .build/release/cnnprune || { echo "setup: the release build failed"; exit 1; }
