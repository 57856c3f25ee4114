#!/usr/bin/env bash
# Runs every test suite against an already built tree (make test builds it first).
set -euo pipefail
build_dir=${1:-build/release}
cd "$(dirname "$0")/.."
ctest --test-dir "$build_dir" --output-on-failure --timeout 300 -j2
