#!/usr/bin/env bash
# Events over NATS JetStream beside events through the database, in one command on one machine:
#   1. delete -> archived lag: ORDERS orders created, then deleted at a fixed RATE/s (open loop)
#      on a `serve` process with bus = local and on one with bus = nats (a 3-node JetStream
#      cluster on loopback); lag = archive object written - DELETE acknowledged (p50/p99).
#   2. The bus = nats process's maximum delete rate (DELETE_CONNECTIONS connections, as fast as
#      they go) and its create rate (PostgreSQL's durable commit rate through the API).
#   3. Relay throughput: ORDERS orders created while the NATS cluster is down (their events wait
#      in the outbox), then the cluster starts; events/s from the first event relayed to an
#      empty backlog (orderflow_bus_relay_backlog).
# Both processes share one durable PostgreSQL (fsync on, synchronous_commit on), a database each.
#
#   bench/nats/run.sh [BUILD_DIR]
#   env: RUNS=3 ORDERS=2000 RATE=500 DELETE_CONNECTIONS=16
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build_dir=${1:-build/release}
bin=$(cd "$root" && realpath "$build_dir/orderflow")
RUNS=${RUNS:-3}
ORDERS=${ORDERS:-2000}
RATE=${RATE:-500}
DELETE_CONNECTIONS=${DELETE_CONNECTIONS:-16}
source "$here/../lib.sh"
client() { /usr/bin/python3 "$here/client.py" "$@"; }
[ -x "$bin" ] || { echo "no $bin; build it first (cmake --build --preset release)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-nats-bench.XXXXXX")
chmod 711 "$work"  # PostgreSQL runs as its own user and must reach its data dir inside
built=$(date -r "$bin" '+%Y-%m-%d %H:%M')
cp "$bin" "$work/orderflow"
bin=$work/orderflow
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_pid "$p"; done
  "$root/scripts/nats-server.sh" stop "$work/nats" >/dev/null 2>&1 || true
  "$root/scripts/postgres-server.sh" stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

while read -r v; do unset "$v"; done < <(env | sed -n 's/^\(ORDERFLOW_[A-Z_]*\)=.*/\1/p')
export ORDERFLOW_RECOGNIZER=none ORDERFLOW_ACCESS_LOG=false
export ORDERFLOW_SIGNING_SECRET=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

admin=$("$root/scripts/postgres-server.sh" start "$work/pg")
pg_base=${admin%/postgres}
for db in local nats; do psql -q "$admin" -c "CREATE DATABASE $db" >/dev/null; done
bus=$("$root/scripts/nats-server.sh" start "$work/nats" 3)
load_start=$(cut -d' ' -f1 /proc/loadavg)

# start NAME STORE BUS: a `serve` process (API and workers) with objects and mail of its own.
start() {
  local name=$1 log="$work/$1.log" i
  ORDERFLOW_STORE=$2 ORDERFLOW_BUS=$3 ORDERFLOW_OBJECTS="file:$work/$name-objects" \
    ORDERFLOW_MAILER="maildir:$work/$name-mail" \
    "$bin" serve --listen 127.0.0.1:0 --data-dir "$work/$name" >"$log" 2>&1 &
  PID=$!
  pids+=("$PID")
  for i in $(seq 1 300); do
    URL=$(grep -o 'listening on http://[0-9.:]*' "$log" 2>/dev/null | head -1 | sed 's/listening on //' || true)
    [ -n "$URL" ] && curl -fs -o /dev/null "$URL/readyz" && return 0
    sleep 0.05
  done
  echo "orderflow $name did not become ready; log:" >&2
  cat "$log" >&2
  exit 1
}
start local "$pg_base/local" local
local_url=$URL
start nats "$pg_base/nats" "$bus"
nats_url=$URL nats_pid=$PID
value() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
med() { printf '%s\n' $1 | median; }

declare -A r
for k in local.p50 local.p99 local.max local.rate local.late local.bad nats.p50 nats.p99 nats.max nats.rate nats.late nats.bad \
         delete_rate create_rate relay; do r[$k]=""; done
for run in $(seq 1 "$RUNS"); do
  for t in local nats; do
    url=${t}_url
    client create "${!url}" "$ORDERS" "$DELETE_CONNECTIONS" "$work/ids" >"$work/create.out"
    client lag "${!url}" "$work/ids" "$RATE" "$work/$t-objects/deleted_orders" >"$work/lag.out"
    r[$t.p50]+=" $(value lag_p50_ms "$work/lag.out")"
    r[$t.p99]+=" $(value lag_p99_ms "$work/lag.out")"
    r[$t.max]+=" $(value lag_max_ms "$work/lag.out")"
    r[$t.rate]+=" $(value rate_per_s "$work/lag.out")"
    r[$t.late]+=" $(value late_sends "$work/lag.out")"
    r[$t.bad]+=" $(( $(value delete_failures "$work/lag.out") + $(value missing "$work/lag.out") ))"
  done
  # The bus = nats process at full speed: creates (durable commits) and deletes.
  client create "$nats_url" "$ORDERS" "$DELETE_CONNECTIONS" "$work/ids" >"$work/create.out"
  r[create_rate]+=" $(value create_per_s "$work/create.out")"
  client delete "$nats_url" "$work/ids" "$DELETE_CONNECTIONS" >"$work/delete.out"
  r[delete_rate]+=" $(value delete_ack_per_s "$work/delete.out")"
  # Relay throughput on a backlog made while the cluster is down.
  "$root/scripts/nats-server.sh" stop "$work/nats" >/dev/null
  client create "$nats_url" "$ORDERS" "$DELETE_CONNECTIONS" "$work/ids" >"$work/create.out"
  client backlog "$nats_url" "$ORDERS" >"$work/backlog.out" &  # watching before the cluster is back
  watcher=$!
  "$root/scripts/nats-server.sh" start-node "$work/nats" 0 1 2 >/dev/null
  wait "$watcher"
  r[relay]+=" $(value relay_events_per_s "$work/backlog.out")"
  client delete "$nats_url" "$work/ids" "$DELETE_CONNECTIONS" >/dev/null  # leave no backlog behind
done
load_end=$(cut -d' ' -f1 /proc/loadavg)

echo "machine: $(nproc) cores, $(uname -r), orderflow built $built, load average $load_start at the start, $load_end at the end; runs: $RUNS"
echo "PostgreSQL $(psql -At "$admin" -c 'SHOW server_version') (durable: fsync and synchronous_commit on); $(nats-server --version) x 3 nodes on loopback (stream R3)"
echo
echo "Delete -> archived: $ORDERS deletes per run at $RATE/s (open loop, 8 senders), one \`serve\` process (API and workers) per bus; lag = archive object's mtime - DELETE acknowledged (medians over the runs; max over all)"
echo
echo "| bus | deletes/s achieved | lag p50 ms | lag p99 ms | lag max ms | sends > 10 ms late | failed or missing |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for t in local nats; do
  label=$([ "$t" = local ] && echo "local (database deliveries)" || echo "nats (3-node JetStream)")
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(med "${r[$t.rate]}")" "$(med "${r[$t.p50]}")" \
    "$(med "${r[$t.p99]}")" "$(printf '%s\n' ${r[$t.max]} | sort -g | tail -1)" "$(med "${r[$t.late]}")" \
    "$(printf '%s\n' ${r[$t.bad]} | awk '{ s += $1 } END { print s + 0 }')"
done
echo
echo "Relay on bus = nats: $ORDERS events made while the cluster was down, relayed once it was back; beside the same process's durable create rate (PostgreSQL commits through the API, $DELETE_CONNECTIONS connections) and maximum delete rate"
echo
echo "| relay events/s (median) | POST /orders/s (median) | DELETE /orders/s (median) | relay / delete rate |"
echo "| ---: | ---: | ---: | ---: |"
relay=$(med "${r[relay]}")
del=$(med "${r[delete_rate]}")
printf '| %s | %s | %s | %s |\n' "$relay" "$(med "${r[create_rate]}")" "$del" "$(awk -v a="$relay" -v b="$del" 'BEGIN { printf "%.1f", a / b }')"
