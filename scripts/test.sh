#!/usr/bin/env bash
# Runs every test suite against an already built tree (make test builds it first), or only the
# suites whose labels are given after the build dir (`scripts/test.sh build/asan unit e2e`).
# Starts one throwaway PostgreSQL on a free loopback port for the whole run (each test creates
# a database of its own on it) and stops it, by PID, however the run ends.
set -euo pipefail
build_dir=${1:-build/release}
shift || true
label_args=()
if [ $# -gt 0 ]; then
  labels=$(IFS='|'; echo "$*")
  label_args=(-L "^($labels)\$")
fi
cd "$(dirname "$0")/.."

pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-test-pg-XXXXXX")
cleanup() {
  scripts/postgres-server.sh stop "$pg_dir" || true
  rm -rf "$pg_dir"
}
trap cleanup EXIT
ORDERFLOW_TEST_POSTGRES=$(scripts/postgres-server.sh start "$pg_dir" fast)
export ORDERFLOW_TEST_POSTGRES
echo "test.sh: PostgreSQL for the tests at $ORDERFLOW_TEST_POSTGRES" >&2

# Under the sanitizers a finding fails the test: UBSan stops at the first report (ASan always
# does), and both print where. Without them these settings do nothing.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0}
# ORDERFLOW_TEST_EXCLUDE: a ctest -E regex of tests to leave out (make asan-test sets it).
exclude_args=()
if [ -n "${ORDERFLOW_TEST_EXCLUDE:-}" ]; then exclude_args=(-E "$ORDERFLOW_TEST_EXCLUDE"); fi
ctest --test-dir "$build_dir" --output-on-failure --timeout 300 -j2 "${label_args[@]}" \
  "${exclude_args[@]}"
