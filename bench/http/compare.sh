#!/usr/bin/env bash
# Two orderflow binaries side by side on one request path: each serves its own temp data dir with
# 200 orders, and wrk alternates between them (ROUNDS rounds of DURATION seconds, 64 connections)
# so that the machine's noise falls on both alike. Prints "A|B req/s p99_ms non2xx" per round.
# Usage: bench/http/compare.sh BIN_A BIN_B PATH   (env ROUNDS=3 DURATION=5)
#   ID in PATH stands for one of each server's orders: bench/http/compare.sh A B /orders/ID
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
[ $# -eq 3 ] || { echo "usage: $0 BIN_A BIN_B PATH" >&2; exit 2; }
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
work=$(mktemp -d)
declare -A url pid order
cleanup() {
  for n in A B; do [ -n "${pid[$n]:-}" ] && stop_pid "${pid[$n]}"; done
  rm -rf "$work"
}
trap cleanup EXIT
for n in A B; do
  bin=$1
  [ $n = B ] && bin=$2
  start_orderflow "$bin" "$work/$n" "$work/$n.log" --config "$here/../bench.toml"
  url[$n]=$OF_URL
  pid[$n]=$OF_PID
  order[$n]=$(seed_orders "$OF_URL" 200)
done
for r in $(seq 1 "$ROUNDS"); do
  for n in A B; do echo "$n $(wrk_run "${url[$n]}${3//ID/${order[$n]}}" -t2 -c64 -d"${DURATION}s")"; done
done
