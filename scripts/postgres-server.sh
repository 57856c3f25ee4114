#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on a free loopback port, for the tests and scripts/cluster.sh.
#   scripts/postgres-server.sh start DIR [fast]   initdb into DIR, start, print the admin URL
#   scripts/postgres-server.sh stop DIR           stop it (by the postmaster's PID) and keep DIR
# `fast` turns fsync off (tests); without it commits are durable (benchmarks, cluster.sh).
# initdb and postgres refuse to run as root: as root they run as the `postgres` user.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: postgres-server.sh start|stop DIR [fast]}
dir=${2:?usage: postgres-server.sh start|stop DIR [fast]}
mode=${3:-durable}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1
    opts="-c listen_addresses=127.0.0.1 -k $dir -c max_connections=300 -c shared_buffers=64MB"
    if [ "$mode" = fast ]; then opts="$opts -c fsync=off -c full_page_writes=off -c synchronous_commit=off"; fi
    # A port another process took between the probe and the bind: try again with a new one.
    for _ in 1 2 3 4 5; do
      port=$(free_port)
      if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "$opts -p $port" start >/dev/null 2>&1; then
        echo "$port" >"$dir/port"
        echo "postgresql://postgres@127.0.0.1:$port/postgres"
        exit 0
      fi
    done
    echo "postgres-server: could not start PostgreSQL (see $dir/server.log)" >&2
    exit 1
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || {
      pid=$(head -1 "$dir/data/postmaster.pid")
      kill -9 "$pid" 2>/dev/null || true
    }
    ;;
  *)
    echo "usage: postgres-server.sh start|stop DIR [fast]" >&2
    exit 2
    ;;
esac
