#!/usr/bin/env bash
# The main job: installs what is needed, builds, and runs the whole exercise end to end.
# Extra arguments go to `cnnprune experiment` (e.g. --epochs 2, --output DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .build/release/cnnprune experiment "$@"
