#!/usr/bin/env bash
# The event pipeline of orderflow: how many order.deleted events per second the dispatcher
# delivers (archive object + notification mail) beside the rate at which the API commits writes
# with their outbox rows, and the lag from an acknowledged delete to its archive object at a
# steady delete rate. Each run gets a fresh server on a temp data dir with the default maildir
# and SUBSCRIBERS confirmed subscribers. Not part of `make test`.
#
#   bench/events/run.sh BUILD_DIR
#   env: ORDERS=10000 CONNECTIONS=8 RUNS=3 SUBSCRIBERS=1 RATE=500 LAG_SECONDS=20 (0: no lag part)
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ORDERS=${ORDERS:-10000}
CONNECTIONS=${CONNECTIONS:-8}
RUNS=${RUNS:-3}
SUBSCRIBERS=${SUBSCRIBERS:-1}
RATE=${RATE:-500}
LAG_SECONDS=${LAG_SECONDS:-20}
source "$HERE/../lib.sh"

cmake --build "$BUILD" --target orderflow events_bench -j2 >/dev/null
BIN=$BUILD/orderflow
BENCH=$BUILD/bench/events/events_bench

WORK=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-events-bench.XXXXXX")
cleanup() {
  [ -n "${OF_PID:-}" ] && stop_pid "$OF_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT

# Every subscriber is signed up from this one client address.
export ORDERFLOW_LIMITS_SUBSCRIPTION_REQUESTS_PER_HOUR=0

# fresh_server NAME: a server on a new data dir with SUBSCRIBERS confirmed subscribers.
fresh_server() {
  local data=$WORK/$1 s
  rm -rf "$data"
  # In a || list, so that lib.sh's polling grep (no match yet) does not trip `set -e`.
  start_orderflow "$BIN" "$data" "$WORK/$1.log" || exit 1
  OF_PORT=${OF_URL##*:}
  OF_DATA=$data
  for s in $(seq 1 "$SUBSCRIBERS"); do subscribe_confirmed "$data" "bench$s@example.com"; done
}

# value KEY FILE
value() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

declare -A tp
keys=(create_per_s delete_ack_per_s archive_events_per_s archive_drain_per_s all_deliveries_events_per_s
  drain_after_last_ack_ms archived_at_last_ack)
for k in "${keys[@]}"; do tp[$k]=""; done
for r in $(seq 1 "$RUNS"); do
  fresh_server "throughput-$r"
  "$BENCH" throughput --port "$OF_PORT" --data-dir "$OF_DATA" --orders "$ORDERS" \
    --connections "$CONNECTIONS" --mails $((ORDERS * SUBSCRIBERS)) >"$WORK/tp-$r.out"
  for k in "${keys[@]}"; do tp[$k]+="$(value "$k" "$WORK/tp-$r.out") "; done
  stop_pid "$OF_PID"; OF_PID=""
done
med() { printf '%s\n' $1 | median; }

if [ "$LAG_SECONDS" -gt 0 ]; then
  fresh_server lag
  "$BENCH" lag --port "$OF_PORT" --data-dir "$OF_DATA" --orders $((RATE * LAG_SECONDS)) \
    --rate "$RATE" --connections "$CONNECTIONS" >"$WORK/lag.out"
  stop_pid "$OF_PID"; OF_PID=""
fi
L=$WORK/lag.out

echo
echo "machine: $(nproc) cores, $(uname -r); $RUNS runs of $ORDERS orders, $CONNECTIONS connections, $SUBSCRIBERS confirmed subscriber(s), default maildir"
echo
echo "| throughput (median of $RUNS) | per second |"
echo "| --- | ---: |"
printf '| POST /orders (write + outbox row, HTTP) | %.0f |\n' "$(med "${tp[create_per_s]}")"
printf '| DELETE /orders/{id} acknowledged (delete + outbox row, HTTP) | %.0f |\n' "$(med "${tp[delete_ack_per_s]}")"
printf '| events archived (first delete sent → last archive object) | %.0f |\n' "$(med "${tp[archive_events_per_s]}")"
printf '| events archived after the last delete was acknowledged (backlog drain; %.0f of %d were archived by then) | %.0f |\n' \
  "$(med "${tp[archived_at_last_ack]}")" "$ORDERS" "$(med "${tp[archive_drain_per_s]}")"
printf '| events fully delivered (→ last archive object and last mail) | %.0f |\n' "$(med "${tp[all_deliveries_events_per_s]}")"
printf '| drain after the last acknowledged delete | %.0f ms |\n' "$(med "${tp[drain_after_last_ack_ms]}")"
echo
[ -s "$L" ] || exit 0
echo "| lag at a steady $RATE deletes/s ($(value orders "$L") deletes, achieved $(value achieved_rate_per_s "$L")/s) | p50 ms | p90 ms | p99 ms | max ms |"
echo "| --- | ---: | ---: | ---: | ---: |"
for k in ack_to_object send_to_object; do
  case $k in
    ack_to_object) label="delete acknowledged → archive object" ;;
    send_to_object) label="delete sent → archive object" ;;
  esac
  printf '| %s | %s | %s | %s | %s |\n' "$label" "$(value ${k}_p50_ms "$L")" "$(value ${k}_p90_ms "$L")" \
    "$(value ${k}_p99_ms "$L")" "$(value ${k}_max_ms "$L")"
done
echo
echo "objects that appeared before the client had the delete's acknowledgement: $(value object_before_ack "$L"); sender p99 lateness: $(value send_late_p99_ms "$L") ms"
