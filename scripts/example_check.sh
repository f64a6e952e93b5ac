#!/usr/bin/env bash
# Builds Examples/PruneFromSwift the way a user of the library would: against cnnprune by
# version. Clones this repository's HEAD into a temporary folder, tags the clone
# ($CNNPRUNE_EXAMPLE_VERSION; by default one patch release above the highest version tag, 1.0.0
# when there is none or only 0.x, which the example's `from: "1.0.0"` selects),
# copies the example next to it, points CNNPRUNE_URL at the clone, runs a plain `swift build`
# (no flags) and the built executable, and checks that it printed the sizes before and after
# pruning and that the pruned network is smaller. Everything temporary is removed on exit.
#
# Only committed work is checked (the clone is of HEAD). Debug build: the example trains a tiny
# network on 256 generated images, seconds even unoptimised.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
version="${CNNPRUNE_EXAMPLE_VERSION:-}"
work=$(mktemp -d /tmp/cnnprune-example.XXXXXX)
trap 'rm -rf "$work"' EXIT
git clone -q --no-hardlinks "$repo" "$work/cnnprune"
if [ -z "${CNNPRUNE_EXAMPLE_VERSION:-}" ]; then
  # One patch release above the highest version tag, so that HEAD is what `from:` selects.
  version=$(git -C "$work/cnnprune" tag --list | python3 -c '
import re, sys
versions = [tuple(map(int, m.groups())) for m in (re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", line.strip()) for line in sys.stdin) if m]
major, minor, patch = max(versions + [(1, 0, -1)])  # below 1.0.0 counts as none
print(f"{major}.{minor}.{patch + 1}")')
fi
git -C "$work/cnnprune" -c user.name=example-check -c user.email=example-check@localhost \
  tag -a "$version" -m "example check $version"
echo "example_check: cnnprune $(git -C "$work/cnnprune" rev-parse --short HEAD) tagged $version"
cp -R Examples/PruneFromSwift "$work/PruneFromSwift"
rm -rf "$work/PruneFromSwift/.build" "$work/PruneFromSwift/Package.resolved"
cd "$work/PruneFromSwift"
export CNNPRUNE_URL="file://$work/cnnprune"
swift build 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x .build/debug/PruneFromSwift || { echo "example_check: the example did not build"; exit 1; }
grep -q "\"version\" : \"$version\"" Package.resolved \
  || { echo "example_check: cnnprune was not resolved by version $version"; cat Package.resolved; exit 1; }
output=$(.build/debug/PruneFromSwift)
echo "$output"
python3 - "$output" <<'PY'
import re, sys
lines = re.findall(r"^(before|pruned): (\d+) parameters, (\d+) MACs", sys.argv[1], re.M)
sizes = {name: (int(parameters), int(macs)) for name, parameters, macs in lines}
if set(sizes) != {"before", "pruned"}:
    sys.exit("example_check: the example did not print the sizes before and after pruning")
if not all(p < b for p, b in zip(sizes["pruned"], sizes["before"])):
    sys.exit(f"example_check: the pruned network is not smaller: {sizes}")
print(f"example_check: ok (parameters {sizes['before'][0]} -> {sizes['pruned'][0]}, MACs {sizes['before'][1]} -> {sizes['pruned'][1]})")
PY
