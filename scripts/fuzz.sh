#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for SECONDS each (`make fuzz`; CI gives each 60 s),
# or only the targets named after SECONDS (`scripts/fuzz.sh build/fuzz 300 fuzz_money`).
# Configures and builds the fuzz preset first when needed. Each target starts from a copy of its
# seeds, tests/fuzz/corpus/<target>/, in a temp dir, so the committed corpus never grows; an
# input that crashes is kept in BUILD_DIR/fuzz-artifacts/<target>/. Exits non-zero when any
# target failed, after a one-line summary per target.
set -euo pipefail
build_dir=${1:-build/fuzz}
seconds=${2:-60}
shift 2 || shift $#
cd "$(dirname "$0")/.."

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake --preset fuzz -B "$build_dir" >/dev/null
fi
cmake --build "$build_dir" --target fuzzers -j2

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for source in tests/fuzz/fuzz_*.cpp; do
    targets+=("$(basename "$source" .cpp)")
  done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT

summary=()
failed=()
for target in "${targets[@]}"; do
  binary=$build_dir/tests/fuzz/$target
  seeds=tests/fuzz/corpus/$target
  if [ ! -x "$binary" ] || [ ! -d "$seeds" ]; then
    summary+=("$target: FAILED (no binary at $binary or no seeds in $seeds)")
    failed+=("$target")
    continue
  fi
  corpus=$work/$target
  artifacts=$build_dir/fuzz-artifacts/$target/
  mkdir -p "$corpus" "$artifacts"
  cp "$seeds"/* "$corpus"/
  log=$work/$target.log
  echo "fuzz.sh: $target for ${seconds} s" >&2
  rc=0
  "$binary" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  units=$(find "$corpus" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    summary+=("$target: ok, ${execs:-?} execs in ${seconds} s, corpus $(find "$seeds" -type f | wc -l) -> $units inputs")
  else
    input=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
    summary+=("$target: FAILED (exit $rc) after ${execs:-?} execs; input: ${input:-none written}")
    failed+=("$target")
    echo "fuzz.sh: $target failed; the end of its log:" >&2
    tail -n 60 "$log" >&2
  fi
done

printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
