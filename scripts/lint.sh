#!/usr/bin/env bash
# scripts/lint.sh all [BUILD_DIR]   both of the below, format first (make lint; CI runs it).
# scripts/lint.sh format            src/ must be clang-format clean (the project's .clang-format):
#                                   exits 1 and shows the first differences otherwise (make lint).
# scripts/lint.sh tidy [BUILD_DIR]  clang-tidy with the checks of .clang-tidy on every src/ file,
#                                   through BUILD_DIR's compile_commands.json (a built tree, for the
#                                   generated headers); lists the findings and how many, and exits 1
#                                   when there is any (make tidy).
set -euo pipefail
mode=${1:-format}
build_dir=${2:-build/release}
cd "$(dirname "$0")/.."

case "$mode" in
  all)
    scripts/lint.sh format
    scripts/lint.sh tidy "$build_dir"
    ;;
  format)
    mapfile -t sources < <(git ls-files 'src/*.cpp' 'src/*.hpp')
    if ! clang-format-14 --dry-run --Werror "${sources[@]}" 2> /tmp/orderflow-format.$$; then
      head -40 /tmp/orderflow-format.$$ >&2
      rm -f /tmp/orderflow-format.$$
      echo "lint: src/ is not formatted; run: clang-format-14 -i \$(git ls-files 'src/*.[ch]pp')" >&2
      exit 1
    fi
    rm -f /tmp/orderflow-format.$$
    echo "lint: ${#sources[@]} files in src/ are formatted" >&2
    ;;
  tidy)
    if [ ! -f "$build_dir/compile_commands.json" ]; then
      echo "lint: $build_dir/compile_commands.json is missing; build first (make build)" >&2
      exit 2
    fi
    log="$build_dir/clang-tidy.log"
    # The build is GCC's: its own warning flags (-Wno-restrict) mean nothing to clang.
    run-clang-tidy-14 -p "$build_dir" -quiet -j "$(nproc)" \
      -extra-arg=-Wno-unknown-warning-option "$(pwd)/src/.*\.cpp\$" > "$log" 2>&1 || true
    findings=$(grep -E "(warning|error): " "$log" | sed 's/\x1b\[[0-9;]*m//g' | sort -u || true)
    if [ -n "$findings" ]; then
      echo "$findings" >&2
      echo "tidy: $(echo "$findings" | wc -l) findings (all output: $log)" >&2
      exit 1
    else
      echo "tidy: clean" >&2
    fi
    ;;
  *)
    echo "usage: scripts/lint.sh all [BUILD_DIR] | format | tidy [BUILD_DIR]" >&2
    exit 2
    ;;
esac
