#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/Targets against instrumented builds of the library
# modules (swiftc -sanitize=fuzzer,address), then runs each for a bounded time from its seed
# corpus in Fuzz/corpus/<target>/. Fails if any target crashes, traps, leaks memory without
# bound or hangs; the crashing input is kept in .build-fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh                  # every target, 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh safetensors
#   scripts/fuzz.sh --build-only
#
# Targets: safetensors (SafeTensors reader + checkpoint checks), cifar10 (CIFAR10.decode),
# kcounts (the --k parser, PruningCounts.parse), targz (gunzip + tar reader of `download`),
# idx (the MNIST / Fashion-MNIST IDX reader), images (the image folder's PNG/JPEG decoding and resizing).
# graph (the architecture JSON reader of --arch-file and checkpoint metadata),
# trainingcheckpoint (TrainingRun(resuming:), the training checkpoint reader of train --resume).
# New inputs found go to .build-fuzz/corpus/<target>/ (not to the committed seeds).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
OUT=.build-fuzz
ALL_TARGETS=(safetensors cifar10 kcounts targz idx images graph trainingcheckpoint)
BUILD_ONLY=0
TARGETS=()
for arg in "$@"; do
  case "$arg" in
    --build-only) BUILD_ONLY=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) TARGETS+=("$arg") ;;
  esac
done
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL_TARGETS[@]}")

mkdir -p "$OUT/modules"
FLAGS=(-O -parse-as-library -package-name cnnprune -sanitize=fuzzer,address -I "$OUT/modules" -I Sources/CBLAS -I Sources/CZlib -I Sources/CPNG -I Sources/CJPEG
       -I Sources/CNNKernels/include)

# The engine's C kernels (Sources/CNNKernels, imported through its include/module.modulemap),
# compiled with the toolchain's clang under the address sanitizer into a static library.
build_kernels() {
  echo "fuzz: building C module CNNKernels"
  local objects=()
  for source in Sources/CNNKernels/*.c; do
    local object="$OUT/modules/CNNKernels-$(basename "$source" .c).o"
    clang -O2 -fsanitize=address -fPIC -I Sources/CNNKernels/include -c "$source" -o "$object"
    objects+=("$object")
  done
  rm -f "$OUT/modules/libCNNKernels.a"
  ar rcs "$OUT/modules/libCNNKernels.a" "${objects[@]}"
}

# A module from every .swift file under Sources/<name>, as an instrumented static library.
build_module() {
  local name="$1"; shift
  local sources
  mapfile -t sources < <(find "Sources/$name" -name '*.swift' | sort)
  echo "fuzz: building module $name (${#sources[@]} files)"
  swiftc "${FLAGS[@]}" -module-name "$name" -emit-module -emit-module-path "$OUT/modules/$name.swiftmodule" \
    -emit-library -static -o "$OUT/modules/lib$name.a" "$@" "${sources[@]}"
}

# Modules each target needs, in dependency order.
modules_for() {
  case "$1" in
    safetensors|graph|trainingcheckpoint) echo CNNEngine ;;
    cifar10|targz|idx|images) echo CNNEngine CNNDatasets ;;
    kcounts) echo CNNEngine CNNDatasets CNNPruning ;;
    *) echo "fuzz: unknown target '$1' (targets: ${ALL_TARGETS[*]})" >&2; exit 2 ;;
  esac
}

build_kernels
declare -A BUILT=()
for target in "${TARGETS[@]}"; do
  for module in $(modules_for "$target"); do
    if [ -z "${BUILT[$module]:-}" ]; then build_module "$module"; BUILT[$module]=1; fi
  done
done

LINK=(-L "$OUT/modules" -lCNNKernels -lopenblas -lz -lpng16 -ljpeg)
for target in "${TARGETS[@]}"; do
  libraries=()
  for module in $(modules_for "$target"); do libraries=("-l$module" "${libraries[@]}"); done
  echo "fuzz: building target $target"
  swiftc "${FLAGS[@]}" -o "$OUT/fuzz-$target" "Fuzz/Targets/$target.swift" "${libraries[@]}" "${LINK[@]}" 2>&1 \
    | grep -v "Cannot export local symbol '__asan" || true
  [ -x "$OUT/fuzz-$target" ] || { echo "fuzz: failed to build $target" >&2; exit 1; }
done
[ "$BUILD_ONLY" = 1 ] && exit 0

status=0
summary=()
for target in "${TARGETS[@]}"; do
  corpus="$OUT/corpus/$target"
  artifacts="$OUT/artifacts/$target/"
  mkdir -p "$corpus" "$artifacts"
  options=(-max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="$artifacts" -max_len="$(cat "Fuzz/max_len/$target" 2>/dev/null || echo 4096)")
  [ -f "Fuzz/dictionaries/$target.dict" ] && options+=(-dict="Fuzz/dictionaries/$target.dict")
  log="$OUT/$target.log"
  echo "fuzz: running $target for ${SECONDS_PER_TARGET}s (log: $log)"
  if "$OUT/fuzz-$target" "${options[@]}" "$corpus" "Fuzz/corpus/$target" >"$log" 2>&1; then
    result="ok"
  else
    result="FAILED (see $log and $artifacts)"
    status=1
    grep -E "ERROR|Fatal error|deadly signal|out-of-memory|timeout" "$log" | head -5 >&2 || true
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  coverage=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 || true)
  summary+=("$target: $result, $runs runs, $coverage, corpus $(ls "$corpus" | wc -l) new + $(ls "Fuzz/corpus/$target" | wc -l) seeds")
done
printf 'fuzz: %s\n' "${summary[@]}"
exit $status
