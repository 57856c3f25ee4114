#!/usr/bin/env bash
# A whole orderflow cluster on loopback, to see scale-out at work:
# a throwaway PostgreSQL, 2 API replicas (serve --role api) and 2 workers, sharing one objects
# dir and one maildir. Everything is started and stopped by PID; all state lives in one dir.
#   scripts/cluster.sh up       start it and print the URLs
#   scripts/cluster.sh up --nats  the same with events over a 3-node NATS JetStream cluster
#                               (bus = nats://...) instead of the database
#   scripts/cluster.sh status   what runs, and whether each process is ready
#   scripts/cluster.sh down     stop everything and delete the dir
# ORDERFLOW_CLUSTER_DIR (default ./cluster) and ORDERFLOW_BIN (default build/release/orderflow)
# change where.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(realpath -m "${ORDERFLOW_CLUSTER_DIR:-cluster}")
bin=${ORDERFLOW_BIN:-build/release/orderflow}
api_replicas=2
workers=2

# Waits for a process to log its URL; prints it.
wait_for_url() {
  local log=$1 pid=$2
  for _ in $(seq 1 100); do
    if url=$(grep -o 'listening on http://[0-9.:]*' "$log" 2>/dev/null | head -1); then
      echo "${url#listening on }"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "cluster: process $pid exited, see $log" >&2; return 1; }
    sleep 0.1
  done
  echo "cluster: no URL in $log after 10 s" >&2
  return 1
}

start_process() {  # name, then the orderflow arguments
  local name=$1; shift
  local log="$dir/$name.log"
  ORDERFLOW_STORE="$store" ORDERFLOW_BUS="$bus" ORDERFLOW_OBJECTS="file:$dir/objects" ORDERFLOW_MAILER="maildir:$dir/mail" \
  ORDERFLOW_SIGNING_SECRET="$(cat "$dir/signing-secret")" ORDERFLOW_ADMIN_TOKEN="$(cat "$dir/admin-token")" \
    setsid "$bin" "$@" --listen 127.0.0.1:0 --data-dir "$dir/$name" >"$log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/$name.pid"
  local url
  url=$(wait_for_url "$log" "$pid")
  echo "$url" >"$dir/$name.url"
  printf '  %-9s %s  (pid %s, log %s)\n' "$name" "$url" "$pid" "$log"
}

up() {
  [ -x "$bin" ] || { echo "cluster: $bin not found; run make build first" >&2; exit 1; }
  if [ -d "$dir" ]; then echo "cluster: $dir exists; run 'scripts/cluster.sh down' first" >&2; exit 1; fi
  mkdir -p "$dir/objects" "$dir/mail"
  local admin_url
  admin_url=$(scripts/postgres-server.sh start "$dir/postgres")
  store="${admin_url%/postgres}/orderflow"
  psql -q "$admin_url" -c 'CREATE DATABASE orderflow' >/dev/null
  bus=local
  if [ "${1:-}" = --nats ]; then
    bus=$(scripts/nats-server.sh start "$dir/nats" 3) || { echo "cluster: NATS did not start" >&2; exit 1; }
  fi
  # Secrets shared by every process, so a link one replica signs verifies on every other.
  openssl rand -hex 32 >"$dir/signing-secret"
  openssl rand -hex 32 >"$dir/admin-token"
  chmod 600 "$dir/signing-secret" "$dir/admin-token"
  ORDERFLOW_STORE="$store" "$bin" migrate --data-dir "$dir/migrate" >"$dir/migrate.log" 2>&1 ||
    { echo "cluster: orderflow migrate failed, see $dir/migrate.log" >&2; exit 1; }
  echo "orderflow cluster in $dir"
  echo "  postgres  $store"
  echo "  bus       $bus"
  for i in $(seq 1 "$api_replicas"); do start_process "api-$i" serve --role api; done
  for i in $(seq 1 "$workers"); do start_process "worker-$i" worker; done
  echo "  mail      $dir/mail/new"
  echo "  admin token: $(cat "$dir/admin-token")"
  echo "Try: curl -s -XPOST $(cat "$dir/api-1.url")/orders -H 'Content-Type: application/json' -d '{\"description\":\"a lamp\",\"price\":\"19.99\"}'"
}

status() {
  [ -d "$dir" ] || { echo "cluster: not running (no $dir)"; return 0; }
  echo "orderflow cluster in $dir"
  if [ -f "$dir/postgres/data/postmaster.pid" ] && kill -0 "$(head -1 "$dir/postgres/data/postmaster.pid")" 2>/dev/null; then
    echo "  postgres  running (port $(cat "$dir/postgres/port"))"
  else
    echo "  postgres  stopped"
  fi
  if [ -d "$dir/nats" ]; then
    for n in "$dir"/nats/n*; do
      local npid; npid=$(cat "$n/pid" 2>/dev/null || true)
      if [ -n "$npid" ] && kill -0 "$npid" 2>/dev/null; then
        echo "  nats $(basename "$n")   running (port $(cat "$n/port"))"
      else
        echo "  nats $(basename "$n")   stopped"
      fi
    done
  fi
  for f in "$dir"/*.pid; do
    [ -e "$f" ] || continue
    local name pid url state
    name=$(basename "$f" .pid); pid=$(cat "$f"); url=$(cat "$dir/$name.url" 2>/dev/null || echo "?")
    if kill -0 "$pid" 2>/dev/null; then
      state=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/readyz" || true)
      [ "$state" = 200 ] && state=ready || state="not ready ($state)"
    else
      state=stopped
    fi
    printf '  %-9s %s  pid %s  %s\n' "$name" "$url" "$pid" "$state"
  done
}

down() {
  [ -d "$dir" ] || { echo "cluster: not running"; return 0; }
  for f in "$dir"/*.pid; do
    [ -e "$f" ] || continue
    kill -TERM "$(cat "$f")" 2>/dev/null || true
  done
  for f in "$dir"/*.pid; do
    [ -e "$f" ] || continue
    local pid; pid=$(cat "$f")
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  scripts/postgres-server.sh stop "$dir/postgres" || true
  [ -d "$dir/nats" ] && { scripts/nats-server.sh stop "$dir/nats" || true; }
  rm -rf "$dir"
  echo "cluster: stopped and removed $dir"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  status) status ;;
  down) down ;;
  *) echo "usage: scripts/cluster.sh up [--nats]|status|down" >&2; exit 2 ;;
esac
