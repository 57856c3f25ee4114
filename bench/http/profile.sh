#!/usr/bin/env bash
# Where a request path's CPU goes: one orderflow `serve` on a temp data dir with 200 orders, then
# for each PATH (and GET /healthz first, the baseline) one wrk run of DURATION seconds at 64
# connections, with `perf record -g` on the server and the CPU time of the server and of wrk read
# from /proc over the same window. Prints, per path: req/s, CPU µs per request (server, and wrk
# itself, which shares the machine), and the share of the server's samples by where they were
# (kernel, orderflow, SQLite, libc, libstdc++, other) and its hottest symbols.
#
#   bench/http/profile.sh [BUILD_DIR] PATH...     e.g. /orders/ID "/orders?limit=50" POST:/orders
#   ID is replaced by one of the orders; POST:PATH creates orders (bench/post_order.lua).
#   env: DURATION=8 TOP=12
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/../lib.sh"
build_dir=build/release
if [ $# -gt 0 ] && [ -d "$1" ]; then build_dir=$1; shift; fi
[ $# -gt 0 ] || { echo "usage: $0 [BUILD_DIR] PATH..." >&2; exit 2; }
bin=$(cd "$root" && realpath "$build_dir/orderflow")
DURATION=${DURATION:-8}
TOP=${TOP:-12}
command -v perf >/dev/null || { echo "perf is not installed (Debian linux-perf)" >&2; exit 1; }

work=$(mktemp -d)
OF_PID=""
cleanup() {
  [ -n "$OF_PID" ] && stop_pid "$OF_PID"
  rm -rf "$work"
}
trap cleanup EXIT
ORDERFLOW_RECOGNIZER=none start_orderflow "$bin" "$work/data" "$work/serve.log" \
  --config "$root/bench/bench.toml"
id=$(seed_orders "$OF_URL" 200)

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # utime + stime of a whole process
hz=$(getconf CLK_TCK)
echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); orderflow built $(date -r "$bin" '+%Y-%m-%d %H:%M'); wrk -t2 -c64 -d${DURATION}s"
echo
for target in /healthz "$@"; do
  method=GET path=$target
  if [[ $target == POST:* ]]; then method=POST path=${target#POST:}; fi
  path=${path//ID/$id}
  args=(-t2 -c64 -d"${DURATION}s" --latency)
  [ "$method" = POST ] && args+=(-s "$root/bench/post_order.lua")
  before=$(ticks "$OF_PID")
  perf record -q -g -o "$work/perf.data" -p "$OF_PID" 2>/dev/null &
  perf_pid=$!
  wrk "${args[@]}" "$OF_URL$path" >"$work/wrk.out" 2>&1 &
  wrk_pid=$!
  wrk_ticks=0
  while kill -0 "$wrk_pid" 2>/dev/null; do  # wrk's own CPU, read just before it exits
    t=$(ticks "$wrk_pid" 2>/dev/null || true)
    [ -n "$t" ] && wrk_ticks=$t
    sleep 0.2
  done
  wait "$wrk_pid" || true
  after=$(ticks "$OF_PID")
  kill -INT "$perf_pid" 2>/dev/null || true
  wait "$perf_pid" 2>/dev/null || true
  rps=$(awk '/Requests\/sec:/ { print $2 }' "$work/wrk.out")
  requests=$(awk '/requests in/ { print $1 }' "$work/wrk.out")
  p99=$(awk '/^ +99%/ { print $2 }' "$work/wrk.out")
  echo "== $method $target: $rps req/s, p99 $p99"
  awk -v s="$((after - before))" -v w="$wrk_ticks" -v n="$requests" -v hz="$hz" 'BEGIN {
    printf "CPU per request: server %.1f µs, wrk %.1f µs\n", s / hz / n * 1e6, w / hz / n * 1e6 }'
  perf report -i "$work/perf.data" --no-children --sort dso --stdio 2>/dev/null |
    awk '/^ +[0-9.]+%/ {
      d = $2; share = $1; sub(/%/, "", share)
      if (d ~ /kernel/) k = "kernel"; else if (d ~ /^orderflow/) k = "orderflow";
      else if (d ~ /sqlite/) k = "SQLite"; else if (d ~ /^libc[.-]/) k = "libc";
      else if (d ~ /stdc\+\+/) k = "libstdc++"; else k = "other"
      sum[k] += share }
      END { line = "samples by place:"; n = split("kernel orderflow SQLite libc libstdc++ other", o, " ")
        for (i = 1; i <= n; i++) line = line sprintf(" %s %.1f %%", o[i], sum[o[i]])
        print line }'
  echo "hottest symbols (self):"
  perf report -i "$work/perf.data" --no-children --sort sym --stdio 2>/dev/null |
    awk -v top="$TOP" '/^ +[0-9.]+%/ && shown < top { $1 = $1; print "  " $0; shown++ }'
  echo
done
