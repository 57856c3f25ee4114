#!/usr/bin/env bash
# CPU time the event workers spend per 1,000 order.deleted events (archive object, image
# removal and one notification mail per confirmed subscriber), for this build and, in the same
# command, for a baseline binary. Per run, on a fresh data dir with the default maildir:
#   1. `serve` signs up SUBSCRIBERS confirmed subscribers;
#   2. `serve --role api` takes ORDERS creates and deletes (the outbox fills; nothing delivers);
#   3. `worker` starts on that data dir and delivers the backlog; its user+system CPU time from
#      exec to the last archive object and mail is read from /proc/PID/stat.
# Not part of `make test`.
#
#   bench/events/cpu.sh BUILD_DIR [BASELINE_BINARY]
#   env: ORDERS=5000 CONNECTIONS=8 RUNS=5 SUBSCRIBERS=1
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [BASELINE_BINARY]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
BASELINE=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
ORDERS=${ORDERS:-5000}
CONNECTIONS=${CONNECTIONS:-8}
RUNS=${RUNS:-5}
SUBSCRIBERS=${SUBSCRIBERS:-1}
source "$HERE/../lib.sh"
# Every subscriber is signed up from this one client address.
export ORDERFLOW_LIMITS_SUBSCRIPTION_REQUESTS_PER_HOUR=0

cmake --build "$BUILD" --target orderflow events_bench -j2 >/dev/null
BENCH=$BUILD/bench/events/events_bench

WORK=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-events-cpu.XXXXXX")
cleanup() {
  [ -n "${OF_PID:-}" ] && stop_pid "$OF_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT

files_in() { find "$1" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l; }

# one_run BIN NAME: prints "CPU_SECONDS USER_SECONDS WALL_SECONDS" of the worker that delivers
# the backlog.
one_run() {
  local bin=$1 data=$WORK/$2 s mails_before ticks wall t0 stat
  rm -rf "$data"
  start_orderflow "$bin" "$data" "$WORK/$2.serve.log" || exit 1
  for s in $(seq 1 "$SUBSCRIBERS"); do subscribe_confirmed "$data" "bench$s@example.com"; done
  stop_pid "$OF_PID"; OF_PID=""
  mails_before=$(files_in "$data/mail/new")

  start_orderflow "$bin" "$data" "$WORK/$2.api.log" --role api || exit 1
  "$BENCH" backlog --port "${OF_URL##*:}" --data-dir "$data" --orders "$ORDERS" \
    --connections "$CONNECTIONS" >/dev/null
  stop_pid "$OF_PID"; OF_PID=""

  t0=$(date +%s.%N)
  "$bin" worker --listen 127.0.0.1:0 --data-dir "$data" >"$WORK/$2.worker.log" 2>&1 &
  OF_PID=$!
  local deadline=$((SECONDS + 600))
  until [ "$(files_in "$data/objects/deleted_orders")" -ge "$ORDERS" ] &&
    [ "$(files_in "$data/mail/new")" -ge $((mails_before + ORDERS * SUBSCRIBERS)) ]; do
    [ $SECONDS -lt $deadline ] || { echo "the worker did not deliver the backlog; log:" >&2; cat "$WORK/$2.worker.log" >&2; exit 1; }
    kill -0 "$OF_PID" 2>/dev/null || { echo "the worker died; log:" >&2; cat "$WORK/$2.worker.log" >&2; exit 1; }
    sleep 0.05
  done
  wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  # Fields 14 and 15 after the "(comm)" field: utime and stime in clock ticks.
  stat=$(sed 's/.*) //' "/proc/$OF_PID/stat")
  stop_pid "$OF_PID"; OF_PID=""
  awk -v hz="$(getconf CLK_TCK)" -v wall="$wall" '{ print ($12 + $13) / hz, $12 / hz, wall }' <<<"$stat"
}

declare -A cpu user wall
names=(this)
[ -n "$BASELINE" ] && names+=(baseline)
for r in $(seq 1 "$RUNS"); do
  for n in "${names[@]}"; do  # alternated, so that the machine's noise falls on both alike
    bin=$BUILD/orderflow
    [ "$n" = baseline ] && bin=$BASELINE
    read -r c u w < <(one_run "$bin" "$n-$r")
    cpu[$n]+="$c "
    user[$n]+="$u "
    wall[$n]+="$w "
  done
done

med() { printf '%s\n' $1 | median; }
per_thousand() { awk -v n="$ORDERS" '{ print $1 * 1000 / n }'; }
echo
echo "machine: $(nproc) cores, $(uname -r); $RUNS runs of $ORDERS order.deleted events, $SUBSCRIBERS confirmed subscriber(s), default maildir"
echo
echo "| worker delivering the backlog (median of $RUNS) | CPU s per 1,000 events | of which user | wall s per 1,000 events |"
echo "| --- | ---: | ---: | ---: |"
for n in "${names[@]}"; do
  label="this build"
  [ "$n" = baseline ] && label="baseline ($BASELINE)"
  printf '| %s | %.3f | %.3f | %.3f |\n' "$label" "$(med "${cpu[$n]}" | per_thousand)" \
    "$(med "${user[$n]}" | per_thousand)" "$(med "${wall[$n]}" | per_thousand)"
done
if [ -n "$BASELINE" ]; then
  printf '\nCPU ratio this/baseline: %.2f\n' "$(awk -v a="$(med "${cpu[this]}")" -v b="$(med "${cpu[baseline]}")" 'BEGIN { print a / b }')"
fi
