#!/usr/bin/env bash
# make bench: every figure of the lean-and-fast issue beside its target, in one table, measured
# on this machine in this run against baselines of the same run:
#   - footprint (bench/footprint/run.sh): shared libraries, --version, start to ready, idle RSS;
#   - HTTP at saturation (wrk, 64 connections): req/s as a ratio of orderflow's own /healthz
#     (itself beside nginx's fixed 200) and p99;
#   - HTTP at a fixed rate of half each target's saturation rate (bench/http/paced, latency from
#     each request's due time, so no coordinated omission): p99;
#   - events (bench/events/run.sh and cpu.sh): the archive's rate beside the API's own delete
#     rate, and the worker's CPU seconds per 1,000 delivered events.
# Usage: bench/run.sh [BUILD_DIR]
#   env: RUNS=3 DURATION=8 CONNECTIONS=64; FOOTPRINT=1 EVENTS=1 (0 leaves that part out);
#        EVENT_ORDERS=5000
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build_dir=$(realpath "${1:-build/release}")
bin=$build_dir/orderflow
RUNS=${RUNS:-3}
DURATION=${DURATION:-8}
CONNECTIONS=${CONNECTIONS:-64}
FOOTPRINT=${FOOTPRINT:-1}
EVENTS=${EVENTS:-1}
EVENT_ORDERS=${EVENT_ORDERS:-5000}
source "$here/lib.sh"
cmake --build "$build_dir" --target orderflow paced events_bench -j2 >/dev/null
paced=$build_dir/bench/http/paced

work=$(mktemp -d)
cleanup() {
  [ -n "${OF_PID:-}" ] && stop_pid "$OF_PID"
  [ -n "${NGINX_PID:-}" ] && stop_pid "$NGINX_PID"
  rm -rf "$work"
}
trap cleanup EXIT

# cell FILE LABEL [COLUMN]: the COLUMN-th cell (default 2) of the markdown row starting LABEL.
cell() {
  awk -F'|' -v label="$2" -v col="${3:-2}" 'index($2, label) == 2 { v = $(col + 1); gsub(/^ +| +$/, "", v); print v; exit }' "$1"
}
number() { grep -o '[0-9][0-9.,]*' | head -1 | tr -d ','; }

if [ "$FOOTPRINT" = 1 ]; then
  echo "== footprint (RUNS=$RUNS bench/footprint/run.sh)" >&2
  RUNS=$RUNS "$here/footprint/run.sh" "$build_dir" | tee "$work/footprint.md" >&2
fi
if [ "$EVENTS" = 1 ]; then
  echo "== events (ORDERS=$EVENT_ORDERS RUNS=1 LAG_SECONDS=0 bench/events/run.sh)" >&2
  ORDERS=$EVENT_ORDERS RUNS=1 LAG_SECONDS=0 "$here/events/run.sh" "$build_dir" | tee "$work/events.md" >&2
  echo "== event CPU (ORDERS=$EVENT_ORDERS RUNS=$RUNS bench/events/cpu.sh)" >&2
  ORDERS=$EVENT_ORDERS RUNS=$RUNS "$here/events/cpu.sh" "$build_dir" | tee "$work/cpu.md" >&2
fi

echo "== HTTP" >&2
start_orderflow "$bin" "$work/data" "$work/of.log"
for i in $(seq 1 200); do curl -s -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"description\":\"seed $i\",\"price\":$i.25}" "$OF_URL/orders"; done
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

# At a fixed rate of half each target's saturation rate, on the same server.
declare -A paced_p99
for t in get_by_id list50 create; do
  rate=$(awk -v r="$(med "${rps[$t]}")" 'BEGIN { printf "%d", r / 2 }')
  case $t in
    get_by_id) args=(--target "/orders/$order_id") ;;
    list50) args=(--target "/orders?limit=50") ;;
    create) args=(--target /orders --post '{"description":"paced order","price":12.50}') ;;
  esac
  p=""
  for r in $(seq 1 "$RUNS"); do
    "$paced" --port "${OF_URL##*:}" "${args[@]}" --rate "$rate" --seconds "$DURATION" \
      --connections 32 >"$work/paced.out"
    p+="$(awk '$1 == "p99_ms" { print $2 }' "$work/paced.out") "
  done
  paced_p99[$t]="$(med "$p") ms at $rate/s"
done
echo

# The summary: every figure beside its target.
ratio() { awk -v a="$(med "${rps[$1]}")" -v b="$healthz_rps" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == "<=") ? v <= t : v >= t; print ok ? "met" : "**missed**" }'; }
row() {  # row FIGURE VALUE TARGET_TEXT NUMBER OP TARGET_NUMBER
  printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$( [ -n "$4" ] && verdict "$4" "$6" "$5" || echo —)"
}
echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); medians of $RUNS runs"
echo
echo "| figure | measured | target | |"
echo "| --- | ---: | ---: | --- |"
if [ -s "$work/footprint.md" ]; then
  f=$work/footprint.md
  row "shared libraries of the binary" "$(cell "$f" "shared libraries")" "—" ""
  v=$(cell "$f" '`orderflow --version`' | number); row '`orderflow --version`' "$v ms" "≤ 20 ms" "$v" "<=" 20
  v=$(cell "$f" "start to" | number); row "start to ready, model configured" "$v ms" "≤ 100 ms" "$v" "<=" 100
  v=$(cell "$f" "idle RSS, \`recognizer = none\`" | number); row "idle RSS, recognizer = none" "$v MB" "≤ 30 MB" "$v" "<=" 30
  v=$(cell "$f" "idle RSS, model loaded" | number); row "idle RSS, model loaded" "$v MB" "≤ 60 MB" "$v" "<=" 60
fi
row "/healthz beside nginx (baseline)" "$(med "${rps[healthz]}" | awk '{ printf "%.0f", $1 }') req/s, $(awk -v a="$healthz_rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a / b }') of nginx" "—" ""
for t in create get_by_id list50; do
  case $t in
    create) label="durable POST /orders"; target=0.5 ;;
    get_by_id) label="GET /orders/{id}"; target=0.7 ;;
    list50) label="GET /orders?limit=50"; target=0.35 ;;
  esac
  v=$(ratio "$t"); row "$label, req/s ÷ /healthz ($CONNECTIONS connections)" "$v" "≥ $target" "$v" ">=" "$target"
  v=$(med "${p99[$t]}"); row "$label, p99 at saturation (wrk)" "$v ms" "≤ 5 ms" "$v" "<=" 5
  v=${paced_p99[$t]}; row "$label, p99 at half that rate (paced)" "$v" "≤ 2 ms" "${v%% *}" "<=" 2
done
if [ -s "${work}/events.md" ]; then
  e=$work/events.md
  del=$(cell "$e" "DELETE /orders/{id} acknowledged" | number)
  arch=$(cell "$e" "events archived (first delete" | number)
  all=$(cell "$e" "events fully delivered" | number)
  row "events archived per s ÷ the API's own delete rate ($del/s)" "$(awk -v a="$arch" -v b="$del" 'BEGIN { printf "%.2f", a / b }')" "≥ 1 (keeps up)" "$(awk -v a="$arch" -v b="$del" 'BEGIN { print a / b }')" ">=" 0.95
  row "events fully delivered (archive and mail) per s ÷ delete rate" "$(awk -v a="$all" -v b="$del" 'BEGIN { printf "%.2f", a / b }')" "≥ 1 (keeps up)" "$(awk -v a="$all" -v b="$del" 'BEGIN { print a / b }')" ">=" 0.95
fi
if [ -s "${work}/cpu.md" ]; then
  v=$(cell "$work/cpu.md" "this build"); row "worker CPU s per 1,000 delivered events" "$v" "lower than before (RESULTS)" ""
fi
