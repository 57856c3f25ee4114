#!/usr/bin/env bash
# make bench: HTTP throughput and p99 latency of orderflow beside baselines measured in the
# same run on the same machine (nginx's fixed 200, and orderflow's own /healthz).
# Usage: bench/run.sh [BUILD_DIR] (env RUNS=3 DURATION=8 CONNECTIONS=64)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build_dir=${1:-build/release}
bin=$(cd "$here/.." && realpath "$build_dir/orderflow")
RUNS=${RUNS:-3}
DURATION=${DURATION:-8}
CONNECTIONS=${CONNECTIONS:-64}
source "$here/lib.sh"

work=$(mktemp -d)
cleanup() {
  [ -n "${OF_PID:-}" ] && stop_pid "$OF_PID"
  [ -n "${NGINX_PID:-}" ] && stop_pid "$NGINX_PID"
  rm -rf "$work"
}
trap cleanup EXIT

# Start-up time and idle memory on an existing data dir.
start_orderflow "$bin" "$work/data" "$work/of.log"
for i in $(seq 1 200); do curl -s -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"description\":\"seed $i\",\"price\":$i.25}" "$OF_URL/orders"; done
stop_pid "$OF_PID"
startup_ms=()
for r in $(seq 1 "$RUNS"); do
  t0=$(date +%s%N)
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/start.log" 2>&1 &
  OF_PID=$!
  until url=$(grep -o "http://[0-9.:]*" "$work/start.log" | head -1 || true) && [ -n "$url" ] &&
    curl -fs -o /dev/null "$url/readyz"; do sleep 0.002; done
  t1=$(date +%s%N)
  startup_ms+=("$(( (t1 - t0) / 1000000 ))")
  sleep 1
  idle_rss_kb=$(awk '/VmRSS/ { print $2 }' /proc/$OF_PID/status)
  stop_pid "$OF_PID"
done
startup=$(printf '%s\n' "${startup_ms[@]}" | median)
# The same, without the image model (recognizer = none), for the memory of the order service alone.
ORDERFLOW_RECOGNIZER=none "$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/none.log" 2>&1 &
OF_PID=$!
sleep 1
idle_rss_none_kb=$(awk '/VmRSS/ { print $2 }' /proc/$OF_PID/status)
stop_pid "$OF_PID"

# Throughput: alternate the targets within each round so noise hits them all alike.
nginx_port=$(free_port)
start_nginx "$work/nginx" "$nginx_port"
start_orderflow "$bin" "$work/data" "$work/of.log" --config "$here/bench.toml"
order_id=$(curl -fs -H 'Content-Type: application/json' -d '{"description":"bench","price":1.00}' \
  "$OF_URL/orders" | sed 's/.*"orderId":"\([^"]*\)".*/\1/')

declare -A rps p99 bad
targets=(nginx healthz get_by_id list50 create)
for t in "${targets[@]}"; do rps[$t]=""; p99[$t]=""; bad[$t]=0; done
wrk_args=(-t2 -c"$CONNECTIONS" -d"${DURATION}s")
for r in $(seq 1 "$RUNS"); do
  for t in "${targets[@]}"; do
    case $t in
      nginx) out=$(wrk_run "http://127.0.0.1:$nginx_port/healthz" "${wrk_args[@]}") ;;
      healthz) out=$(wrk_run "$OF_URL/healthz" "${wrk_args[@]}") ;;
      get_by_id) out=$(wrk_run "$OF_URL/orders/$order_id" "${wrk_args[@]}") ;;
      list50) out=$(wrk_run "$OF_URL/orders?limit=50" "${wrk_args[@]}") ;;
      create) out=$(wrk_run "$OF_URL/orders" "${wrk_args[@]}" -s "$here/post_order.lua") ;;
    esac
    read -r a b c <<<"$out"
    rps[$t]+="$a "
    p99[$t]+="$b "
    bad[$t]=$(( ${bad[$t]} + c ))
  done
done

med() { printf '%s\n' $1 | median; }
nginx_rps=$(med "${rps[nginx]}")
healthz_rps=$(med "${rps[healthz]}")
echo
echo "machine: $(nproc) cores, $(uname -r); runs: $RUNS x ${DURATION}s, wrk -t2 -c$CONNECTIONS"
echo
echo "| target | req/s (median) | ratio | baseline | p99 ms (median) | non-2xx |"
echo "| --- | ---: | ---: | --- | ---: | ---: |"
for t in "${targets[@]}"; do
  m=$(med "${rps[$t]}")
  case $t in
    nginx) base="—"; ratio="1.00" ;;
    healthz) base="nginx"; ratio=$(awk -v a="$m" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a / b }') ;;
    *) base="/healthz"; ratio=$(awk -v a="$m" -v b="$healthz_rps" 'BEGIN { printf "%.2f", a / b }') ;;
  esac
  printf '| %s | %.0f | %s | %s | %s | %s |\n' "$t" "$m" "$ratio" "$base" "$(med "${p99[$t]}")" "${bad[$t]}"
done
echo
echo "start-up to ready (existing data dir, median of $RUNS): ${startup} ms; idle RSS: $(( idle_rss_kb / 1024 )) MB with the image model loaded, $(( idle_rss_none_kb / 1024 )) MB with recognizer = none"
