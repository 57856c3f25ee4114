#!/usr/bin/env bash
# Scale-out benchmark: orderflow on PostgreSQL (a durable throwaway cluster: fsync on,
# synchronous_commit on) beside the embedded SQLite store and orderflow's own /healthz, all in
# one command on the same machine, targets alternating within each round:
#   1. HTTP (wrk): GET /healthz, durable POST /orders and GET /orders/{id} on a `serve` process
#      per store; ratios against /healthz of the same server. Diagnostics beside it: POST on a
#      second cluster without fsync (how much the WAL flush costs), WAL fsyncs/s, and where the
#      PostgreSQL sessions wait during one more durable POST run (pg_stat_activity samples).
#   2. Events: ORDERS orders created, then all deleted as fast as DELETE_CONNECTIONS clients go;
#      order.deleted events fully delivered per second (3 subscriptions each, counted by
#      orderflow_deliveries_delivered_total) with `serve` on SQLite and with `serve --role api`
#      plus 1 and 2 `orderflow worker` processes on PostgreSQL: live (workers running while the
#      deletes go in) and on a backlog (workers started after the last delete).
#   3. Commit → GET /events latency: orders created on replica A at SSE_RATE/s while a client
#      long-polls GET /events on A itself (baseline) and on replica B (cross-process: PostgreSQL
#      LISTEN/NOTIFY); time from each POST's 201 to the /events answer carrying its order.
# CPU of every process (and of PostgreSQL's backends) comes from /proc/PID/stat over each window.
#
#   bench/postgres/run.sh [BUILD_DIR]
#   env: RUNS=3 DURATION=8 CONNECTIONS=64 ORDERS=3000 DELETE_CONNECTIONS=16 SSE_RATE=50
#        SSE_SAMPLES=300 STORE_POOL_SIZE (unset: the product's default)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build_dir=${1:-build/release}
bin=$(cd "$root" && realpath "$build_dir/orderflow")
RUNS=${RUNS:-3}
DURATION=${DURATION:-8}
CONNECTIONS=${CONNECTIONS:-64}
ORDERS=${ORDERS:-3000}
DELETE_CONNECTIONS=${DELETE_CONNECTIONS:-16}
SSE_RATE=${SSE_RATE:-50}
SSE_SAMPLES=${SSE_SAMPLES:-300}
source "$here/../lib.sh"
client() { /usr/bin/python3 "$here/client.py" "$@"; }
[ -x "$bin" ] || { echo "no $bin; build it first (cmake --build --preset release)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-pg-bench.XXXXXX")
chmod 711 "$work"  # PostgreSQL runs as its own user and must reach its data dir inside
# A copy, so that a concurrent rebuild cannot swap the binary between the runs.
built=$(date -r "$bin" '+%Y-%m-%d %H:%M')
cp "$bin" "$work/orderflow"
bin=$work/orderflow
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_pid "$p"; done
  "$root/scripts/postgres-server.sh" stop "$work/pg" || true
  "$root/scripts/postgres-server.sh" stop "$work/pgfast" || true
  rm -rf "$work"
}
trap cleanup EXIT

# Settings shared by every orderflow process; the store is set per process.
while read -r v; do unset "$v"; done < <(env | sed -n 's/^\(ORDERFLOW_[A-Z_]*\)=.*/\1/p')
export ORDERFLOW_RECOGNIZER=none ORDERFLOW_ACCESS_LOG=false
export ORDERFLOW_SIGNING_SECRET=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
export ORDERFLOW_OBJECTS="file:$work/objects" ORDERFLOW_MAILER="maildir:$work/mail"
[ -n "${STORE_POOL_SIZE:-}" ] && export ORDERFLOW_STORE_POOL_SIZE=$STORE_POOL_SIZE

# start NAME STORE ARGS...: an orderflow process (STORE "" = SQLite in its data dir) on a free
# port and its own data dir. Sets PID and URL.
start() {
  local name=$1 store=$2 log i
  log="$work/$name.log"
  shift 2
  if [ -n "$store" ]; then
    ORDERFLOW_STORE=$store "$bin" "$@" --listen 127.0.0.1:0 --data-dir "$work/$name" >"$log" 2>&1 &
  else
    "$bin" "$@" --listen 127.0.0.1:0 --data-dir "$work/$name" >"$log" 2>&1 &
  fi
  PID=$!
  pids+=("$PID")
  URL=""
  for i in $(seq 1 300); do
    URL=$(grep -o 'listening on http://[0-9.:]*' "$log" 2>/dev/null | head -1 | sed 's/listening on //' || true)
    [ -n "$URL" ] && curl -fs -o /dev/null "$URL/readyz" && return 0
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "orderflow $name did not become ready; log:" >&2
  cat "$log" >&2
  exit 1
}
stop() {
  local p=$1 keep=() q
  stop_pid "$p"
  for q in "${pids[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  pids=("${keep[@]}")
}
value() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
med() { printf '%s\n' $1 | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
load() { cut -d' ' -f1 /proc/loadavg; }
# WAL flushes to disk so far (PostgreSQL 15's pg_stat_wal): a durable commit needs one, and a
# group of commits flushed together shares it.
wal_syncs() { psql -At "${1:-$admin}" -c 'SELECT wal_sync FROM pg_stat_wal'; }

admin=$("$root/scripts/postgres-server.sh" start "$work/pg")
pg_pid=$(head -1 "$work/pg/data/postmaster.pid")
pg_base=${admin%/postgres}
for db in http events sse; do psql -q "$admin" -c "CREATE DATABASE $db" >/dev/null; done
pg_settings=$(psql -At "$admin" -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers')")
ORDERFLOW_STORE="$pg_base/http" "$bin" migrate --data-dir "$work/migrate" >/dev/null
ORDERFLOW_STORE="$pg_base/events" "$bin" migrate --data-dir "$work/migrate" >/dev/null
ORDERFLOW_STORE="$pg_base/sse" "$bin" migrate --data-dir "$work/migrate" >/dev/null
# A second cluster without fsync and synchronous_commit, for one diagnostic target: how much of
# the durable POST rate the WAL flush accounts for.
fast_admin=$("$root/scripts/postgres-server.sh" start "$work/pgfast" fast)
fast_pid=$(head -1 "$work/pgfast/data/postmaster.pid")
psql -q "$fast_admin" -c "CREATE DATABASE http" >/dev/null
ORDERFLOW_STORE="${fast_admin%/postgres}/http" "$bin" migrate --data-dir "$work/migrate" >/dev/null
load_start=$(load)

# --- 1. HTTP ------------------------------------------------------------------------------
start sqlite-http "" serve
sq_pid=$PID sq_url=$URL
start pg-http "$pg_base/http" serve
pgs_pid=$PID pgs_url=$URL
start pgfast-http "${fast_admin%/postgres}/http" serve
pgf_pid=$PID pgf_url=$URL
seed() { curl -fs -H 'Content-Type: application/json' -d '{"description":"bench","price":1.00}' "$1/orders" |
  sed 's/.*"orderId":"\([^"]*\)".*/\1/'; }
sq_id=$(seed "$sq_url")
pg_id=$(seed "$pgs_url")

targets=(sqlite_healthz pg_healthz sqlite_get pg_get sqlite_post pg_post pgfast_post)
declare -A rps p99 bad cpu_of cpu_pg fsyncs
for t in "${targets[@]}"; do rps[$t]=""; p99[$t]=""; bad[$t]=0; cpu_of[$t]=""; cpu_pg[$t]=""; fsyncs[$t]=""; done
wrk_args=(-t2 -c"$CONNECTIONS" -d"${DURATION}s")
for r in $(seq 1 "$RUNS"); do
  for t in "${targets[@]}"; do
    case $t in
      sqlite_*) url=$sq_url id=$sq_id pid=$sq_pid db_pid=$pg_pid db_admin=$admin ;;
      pg_*) url=$pgs_url id=$pg_id pid=$pgs_pid db_pid=$pg_pid db_admin=$admin ;;
      pgfast_*) url=$pgf_url id="" pid=$pgf_pid db_pid=$fast_pid db_admin=$fast_admin ;;
    esac
    syncs0=$(wal_syncs "$db_admin")
    before=$(client cpu "$pid" "$db_pid")
    t0=$(date +%s%N)
    case $t in
      *_healthz) out=$(wrk_run "$url/healthz" "${wrk_args[@]}") ;;
      *_get) out=$(wrk_run "$url/orders/$id" "${wrk_args[@]}") ;;
      *_post) out=$(wrk_run "$url/orders" "${wrk_args[@]}" -s "$here/../post_order.lua") ;;
    esac
    t1=$(date +%s%N)
    after=$(client cpu "$pid" "$db_pid")
    sleep 1.1  # backends report their WAL counters when idle, at most once a second
    syncs1=$(wal_syncs "$db_admin")
    cores() { awk -v p="$1" -v dt=$(( t1 - t0 )) 'NR == FNR { if ($1 == p) a = $2; next } $1 == p { printf "%.2f", ($2 - a) / 100 / (dt / 1e9) }' \
      <(echo "$before") <(echo "$after"); }
    read -r a b c <<<"$out"
    rps[$t]+="$a "
    p99[$t]+="$b "
    bad[$t]=$(( ${bad[$t]} + c ))
    cpu_of[$t]+="$(cores "$pid") "
    cpu_pg[$t]+="$(cores "$db_pid") "
    fsyncs[$t]+="$(awk -v n=$(( syncs1 - syncs0 )) -v dt=$(( t1 - t0 )) 'BEGIN { printf "%.0f", n / (dt / 1e9) }') "
  done
done
# Where PostgreSQL's sessions wait during durable POSTs (one more run, not in the table): every
# 0.2 s, the state and wait event of each busy session of the store. "idle in transaction" with
# Client:ClientRead = the session waits for orderflow's next statement inside a batch.
waits_sql="SELECT state || ' ' || coalesce(wait_event_type || ':' || wait_event, 'on CPU') FROM pg_stat_activity WHERE datname = 'http' AND state <> 'idle' AND pid <> pg_backend_pid()"
printf '%s\n\\watch 0.2\n' "$waits_sql" | psql -At "$pg_base/http" >"$work/waits.txt" 2>/dev/null &
watch_pid=$!
pids+=("$watch_pid")
wrk_run "$pgs_url/orders" "${wrk_args[@]}" -s "$here/../post_order.lua" >/dev/null
stop "$watch_pid"
waits=$(grep -v '^$' "$work/waits.txt" | sort | uniq -c | sort -rn | awk -v n="$(grep -vc '^$' "$work/waits.txt")" \
  'NR <= 6 { printf "%s%s %.0f%%", (NR > 1 ? ", " : ""), substr($0, index($0, $2)), 100 * $1 / n }')
stop "$sq_pid"
stop "$pgs_pid"
stop "$pgf_pid"

# --- 2. Events ----------------------------------------------------------------------------
start sqlite-events "" serve
sqe_pid=$PID sqe_url=$URL
start pg-api "$pg_base/events" serve --role api
api_pid=$PID api_url=$URL
configs=(sqlite_all pg_w1 pg_w2 pg_b1 pg_b2)
ev_keys=(events_per_s delete_ack_per_s drain_after_last_ack_ms cpu_server cpu_api cpu_workers cpu_pg cpu_machine_idle_pct delete_failures timeout fsyncs_per_s backlog_events_per_s)
declare -A ev
for c in "${configs[@]}"; do for k in "${ev_keys[@]}"; do ev[$c.$k]=""; done; done
for r in $(seq 1 "$RUNS"); do
  for c in "${configs[@]}"; do
    out="$work/ev-$c-$r.out"
    case $c in
      sqlite_all)
        client create "$sqe_url" "$ORDERS" "$DELETE_CONNECTIONS" "$work/ids" >"$work/create.out"
        client drain "$sqe_url" "$work/ids" "$DELETE_CONNECTIONS" $((3 * ORDERS)) "$sqe_url" \
          "server=$sqe_pid" >"$out"
        ;;
      pg_w*)
        n=${c#pg_w}
        client create "$api_url" "$ORDERS" "$DELETE_CONNECTIONS" "$work/ids" >"$work/create.out"
        syncs0=$(wal_syncs)
        wpids=() wurls=() named=()
        for w in $(seq 1 "$n"); do
          start "worker-$r-$w" "$pg_base/events" worker
          wpids+=("$PID"); wurls+=("$URL"); named+=("workers=$PID")
        done
        sleep 1  # the workers fan out the order.created events (no subscribers) and go idle
        client drain "$api_url" "$work/ids" "$DELETE_CONNECTIONS" $((3 * ORDERS)) \
          "$(IFS=,; echo "${wurls[*]}")" "api=$api_pid" "${named[@]}" "pg=$pg_pid" >"$out"
        sleep 1.1
        syncs1=$(wal_syncs)
        # Over the drain window (deletions ÷ events/s); the fan-out second before it adds a few.
        awk -v n=$(( syncs1 - syncs0 )) -v e="$(value events_per_s "$out")" -v o="$ORDERS" \
          'BEGIN { printf "fsyncs_per_s %.0f\n", n / (o / e) }' >>"$out"
        for p in "${wpids[@]}"; do stop "$p"; done
        ;;
      pg_b*)
        # The deletions first, with no worker running; then the workers start on the backlog.
        n=${c#pg_b}
        client create "$api_url" "$ORDERS" "$DELETE_CONNECTIONS" "$work/ids" >"$work/create.out"
        client delete "$api_url" "$work/ids" "$DELETE_CONNECTIONS" >"$out"
        syncs0=$(wal_syncs)
        wpids=() wurls=() named=()
        for w in $(seq 1 "$n"); do
          port=$(free_port)
          ORDERFLOW_STORE="$pg_base/events" "$bin" worker --listen "127.0.0.1:$port" --data-dir "$work/worker-b$r-$w" \
            >"$work/worker-b$r-$w.log" 2>&1 &
          pids+=("$!")
          wpids+=("$!"); wurls+=("http://127.0.0.1:$port"); named+=("workers=$!")
        done
        client backlog $((3 * ORDERS)) "$(IFS=,; echo "${wurls[*]}")" "api=$api_pid" "${named[@]}" "pg=$pg_pid" >>"$out"
        sleep 1.1
        syncs1=$(wal_syncs)
        awk -v n=$(( syncs1 - syncs0 )) -v e="$(value backlog_events_per_s "$out")" -v o="$ORDERS" \
          'BEGIN { printf "fsyncs_per_s %.0f\n", n / (o / e) }' >>"$out"
        for p in "${wpids[@]}"; do stop "$p"; done
        ;;
    esac
    for k in "${ev_keys[@]}"; do ev[$c.$k]+="$(value "$k" "$out") "; done
  done
done
stop "$sqe_pid"
stop "$api_pid"

# --- 3. Commit → /events latency ----------------------------------------------------------
start api-a "$pg_base/sse" serve --role api
a_pid=$PID a_url=$URL
start api-b "$pg_base/sse" serve --role api
b_pid=$PID b_url=$URL
paths=(same cross)
sse_keys=(sse_p50_ms sse_p99_ms sse_max_ms post_p50_ms post_p99_ms samples missing errors before_ack achieved_rate)
declare -A sse
for p in "${paths[@]}"; do for k in "${sse_keys[@]}"; do sse[$p.$k]=""; done; done
for r in $(seq 1 "$RUNS"); do
  for p in "${paths[@]}"; do
    out="$work/sse-$p-$r.out"
    case $p in
      same) client sse "$a_url" "$a_url" "$SSE_RATE" "$SSE_SAMPLES" >"$out" ;;
      cross) client sse "$a_url" "$b_url" "$SSE_RATE" "$SSE_SAMPLES" >"$out" ;;
    esac
    for k in "${sse_keys[@]}"; do sse[$p.$k]+="$(value "$k" "$out") "; done
  done
done
stop "$a_pid"
stop "$b_pid"
load_end=$(load)

# --- Report -------------------------------------------------------------------------------
sum() { printf '%s\n' $1 | awk '{ s += $1 } END { print s + 0 }'; }
maxof() { printf '%s\n' $1 | sort -g | tail -1; }
echo
echo "machine: $(nproc) cores, $(uname -r), orderflow built $built, load average $load_start at the start, $load_end at the end; runs: $RUNS; PostgreSQL $(psql -At "$admin" -c 'SHOW server_version') ($pg_settings); store pool: ${STORE_POOL_SIZE:-default}"
echo
echo "HTTP: wrk -t2 -c$CONNECTIONS -d${DURATION}s, a \`serve\` process per store (role all, recognizer none, access log off); CPU in cores over each run (2 = the whole machine)"
echo
echo "| target | req/s (median) | ratio | baseline | p99 ms (median) | non-2xx | orderflow CPU | PostgreSQL CPU | WAL fsyncs/s |"
echo "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"
for t in "${targets[@]}"; do
  store=${t%%_*}
  base_rps=$(med "${rps[${store/pgfast/pg}_healthz]}")
  case $t in
    *_healthz) label="GET /healthz"; base="—"; ratio_="1.00" ;;
    *_get) label="GET /orders/{id}"; base="/healthz"; ratio_=$(ratio "$(med "${rps[$t]}")" "$base_rps") ;;
    pgfast_post) label="POST /orders"; base="PostgreSQL /healthz"; ratio_=$(ratio "$(med "${rps[$t]}")" "$base_rps") ;;
    *_post) label="POST /orders (durable)"; base="/healthz"; ratio_=$(ratio "$(med "${rps[$t]}")" "$base_rps") ;;
  esac
  case $store in
    pg) sname=PostgreSQL pgcpu=$(med "${cpu_pg[$t]}") syncs=$(med "${fsyncs[$t]}") ;;
    pgfast) sname="PostgreSQL with fsync=off, synchronous_commit=off (diagnostic: not durable)" pgcpu=$(med "${cpu_pg[$t]}") syncs=$(med "${fsyncs[$t]}") ;;
    *) sname=SQLite pgcpu="—" syncs="—" ;;
  esac
  printf '| %s, %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$sname" "$(med "${rps[$t]}")" "$ratio_" "$base" \
    "$(med "${p99[$t]}")" "${bad[$t]}" "$(med "${cpu_of[$t]}")" "$pgcpu" "$syncs"
done
echo
echo "PostgreSQL sessions during a further durable POST run (pg_stat_activity every 0.2 s, sessions not idle; share of samples): $waits"
echo
echo "Events: $ORDERS orders created, then deleted by $DELETE_CONNECTIONS connections. Live: the workers run while the deletes go in; events/s = deletions ÷ (first delete sent → the last of their 3 deliveries counted in /metrics). Backlog: all deleted first, then the workers start; events/s from the first delivery seen to the last"
echo
echo "| configuration | DELETE acknowledged/s (median) | order.deleted delivered/s (median) | vs 1 worker | drain after the last ack ms | CPU: API / workers / PostgreSQL | WAL fsyncs/s | machine idle % |"
echo "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |"
w1=$(med "${ev[pg_w1.events_per_s]}")
for c in "${configs[@]}"; do
  e=$(med "${ev[$c.events_per_s]}")
  case $c in
    sqlite_all) label="SQLite, one \`serve\` (API and workers)"; vs="—"; cpu="$(med "${ev[$c.cpu_server]}") (one process) / — / —"; syncs="—" ;;
    pg_w1) label="PostgreSQL, \`serve --role api\` + 1 \`worker\`"; vs="1.00"; cpu="$(med "${ev[$c.cpu_api]}") / $(med "${ev[$c.cpu_workers]}") / $(med "${ev[$c.cpu_pg]}")"; syncs=$(med "${ev[$c.fsyncs_per_s]}") ;;
    pg_w2) label="PostgreSQL, \`serve --role api\` + 2 \`worker\`s"; vs=$(ratio "$e" "$w1"); cpu="$(med "${ev[$c.cpu_api]}") / $(med "${ev[$c.cpu_workers]}") / $(med "${ev[$c.cpu_pg]}")"; syncs=$(med "${ev[$c.fsyncs_per_s]}") ;;
    pg_b1) e=$(med "${ev[$c.backlog_events_per_s]}"); b1=$e; label="PostgreSQL, backlog, 1 \`worker\` (deletes acknowledged with no worker running)"; vs="1.00"; cpu="$(med "${ev[$c.cpu_api]}") / $(med "${ev[$c.cpu_workers]}") / $(med "${ev[$c.cpu_pg]}")"; syncs=$(med "${ev[$c.fsyncs_per_s]}") ;;
    pg_b2) e=$(med "${ev[$c.backlog_events_per_s]}"); label="PostgreSQL, backlog, 2 \`worker\`s (same)"; vs=$(ratio "$e" "$b1"); cpu="$(med "${ev[$c.cpu_api]}") / $(med "${ev[$c.cpu_workers]}") / $(med "${ev[$c.cpu_pg]}")"; syncs=$(med "${ev[$c.fsyncs_per_s]}") ;;
  esac
  case $c in
    pg_b*) drain="—" ;;
    *) drain=$(printf '%.0f' "$(med "${ev[$c.drain_after_last_ack_ms]}")") ;;
  esac
  printf '| %s | %.0f | %.0f | %s | %s | %s | %s | %s |\n' "$label" "$(med "${ev[$c.delete_ack_per_s]}")" "$e" "$vs" \
    "$drain" "$cpu" "$syncs" "$(med "${ev[$c.cpu_machine_idle_pct]}")"
done
fails=0; for c in "${configs[@]}"; do fails=$(( fails + $(sum "${ev[$c.delete_failures]}") + $(sum "${ev[$c.timeout]}") )); done
echo
echo "failed deletes + timed-out drains: $fails"
echo
echo "Commit → GET /events: POST /orders on replica A at $SSE_RATE/s, $SSE_SAMPLES per run, while a client long-polls GET /events?after=<seq>; from the POST's 201 to the /events answer carrying the order (medians over $RUNS runs; max over all)"
echo
echo "| listener | samples | p50 ms | p99 ms | max ms | POST 201 p50 / p99 ms | missing | errors |"
echo "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |"
for p in "${paths[@]}"; do
  case $p in
    same) label="on replica A itself (in-process wake-up; baseline)" ;;
    cross) label="on replica B (PostgreSQL LISTEN/NOTIFY)" ;;
  esac
  printf '| %s | %s | %s | %s | %s | %s / %s | %s | %s |\n' "$label" "$(sum "${sse[$p.samples]}")" "$(med "${sse[$p.sse_p50_ms]}")" \
    "$(med "${sse[$p.sse_p99_ms]}")" "$(maxof "${sse[$p.sse_max_ms]}")" "$(med "${sse[$p.post_p50_ms]}")" \
    "$(med "${sse[$p.post_p99_ms]}")" "$(sum "${sse[$p.missing]}")" "$(sum "${sse[$p.errors]}")"
done
