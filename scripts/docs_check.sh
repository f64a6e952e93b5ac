#!/usr/bin/env bash
# Builds the DocC documentation of every library product with swift-docc-plugin and fails on any
# DocC warning (`--warnings-as-errors`: an unresolved link, a documented parameter that does not
# exist or an undocumented one in a `- Parameters:` list, a malformed catalog), on any public
# symbol without a documentation comment (scripts/doc_coverage.py, on the symbol graphs the
# plugin has just extracted), and when the tutorial "Prune a network from Swift" no longer shows
# Examples/PruneFromSwift/Sources/PruneFromSwift/main.swift verbatim.
#
# The library targets come from Package.swift, so a new library product is checked without
# editing this script. The symbol graphs need a debug build, in .build/debug (the release build
# of scripts/setup.sh is not touched). The archives land in .build/plugins/Swift-DocC/outputs/.
set -euo pipefail
cd "$(dirname "$0")/.."
# "name folder" per line, for every regular target of a library product.
library_targets=$(swift package dump-package | python3 -c '
import json, sys
package = json.load(sys.stdin)
targets = {target["name"]: target for target in package["targets"]}
names = []
for product in package["products"]:
    if "library" in product["type"]:
        names += [name for name in product["targets"] if targets[name]["type"] == "regular" and name not in names]
for name in names:
    print(name, targets[name].get("path") or "Sources/" + name)')
targets=$(echo "$library_targets" | cut -d" " -f1 | tr "\n" " ")
targets=${targets% }
[ -n "$targets" ] || { echo "docs_check: no library targets found"; exit 1; }
echo "docs_check: $targets"
# Every library module has a catalog: its landing page and at least one article.
while read -r target path; do
  catalog="$path/$target.docc"
  [ -f "$catalog/$target.md" ] || { echo "docs_check: $catalog/$target.md (the module's landing page) is missing"; exit 1; }
  articles=$(find "$catalog" -name '*.md' ! -name "$target.md" | wc -l)
  [ "$articles" -ge 1 ] || { echo "docs_check: $catalog has no article besides the landing page"; exit 1; }
done <<< "$library_targets"
args=()
for target in $targets; do args+=(--target "$target"); done
log=$(mktemp /tmp/cnnprune-docs.XXXXXX)
trap 'rm -f "$log"' EXIT
if ! swift package generate-documentation "${args[@]}" --warnings-as-errors >"$log" 2>&1; then
  grep -vE '^\[[0-9]+/[0-9]+\]' "$log"
  echo "docs_check: DocC failed (warnings count as errors)"
  exit 1
fi
grep -E '^(Generated|Finished|warning|error)' "$log" | grep -v '^Finished extracting' || true
first=${targets%% *}
graph_dir=$(dirname "$(ls -td .build/*/extracted-symbols/*/"$first" | head -1)")
python3 scripts/doc_coverage.py "$graph_dir" $targets
python3 - <<'PY'
import pathlib, re, sys
article = pathlib.Path("Sources/CNNPruning/CNNPruning.docc/PruneANetworkFromSwift.md").read_text()
code = pathlib.Path("Examples/PruneFromSwift/Sources/PruneFromSwift/main.swift").read_text()
manifest = pathlib.Path("Examples/PruneFromSwift/Package.swift").read_text()
blocks = re.findall(r"^```swift\n(.*?)^```$", article, re.S | re.M)
for name, text, opening in [("Sources/PruneFromSwift/main.swift", code, "import "), ("Package.swift", manifest, "// swift-tools-version")]:
    if [block for block in blocks if block.startswith(opening)] != [text]:
        sys.exit(f"docs_check: PruneANetworkFromSwift.md must show Examples/PruneFromSwift/{name} verbatim, "
                 f"in the one ```swift block that starts with '{opening}'")
print("docs_check: the tutorial shows the example's Package.swift and main.swift verbatim")
PY
echo "docs_check: ok"
