#!/usr/bin/env bash
# scripts/cluster.sh as a newcomer uses it: up, status, an order created on one API replica and
# deleted through the other, archived by a worker; then down leaves no process and no dir.
# Usage: cluster_test.sh ORDERFLOW_BINARY
set -euo pipefail
cd "$(dirname "$0")/../.."
export ORDERFLOW_BIN=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-cluster-test-XXXXXX")
chmod 755 "$work"  # PostgreSQL runs as the postgres user when we are root
export ORDERFLOW_CLUSTER_DIR="$work/cluster"
trap 'scripts/cluster.sh down >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# One round: up (with $1 as its option), status, a create on api-1 and a delete on api-2 that a
# worker archives, down.
round() {
  scripts/cluster.sh up $1 >"$work/up.txt" || fail "up failed: $(cat "$work/up.txt")"
  for name in api-1 api-2 worker-1 worker-2; do
    grep -q "^  $name *http://127.0.0.1:[0-9]*" "$work/up.txt" || fail "up did not print the URL of $name"
  done
  status=$(scripts/cluster.sh status)
  [ "$(grep -c ' ready$' <<<"$status")" -eq 4 ] || fail "status does not show 4 ready processes: $status"

  api1=$(cat "$ORDERFLOW_CLUSTER_DIR/api-1.url")
  api2=$(cat "$ORDERFLOW_CLUSTER_DIR/api-2.url")
  created=$(curl -fsS -XPOST "$api1/orders" -H 'Content-Type: application/json' -d '{"description":"a lamp","price":"19.99"}')
  id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["orderId"])' "$created")
  curl -fsS "$api2/orders/$id" | grep -q '"a lamp"' || fail "order $id not readable through api-2"
  curl -fsS -XDELETE "$api2/orders/$id" >/dev/null
  for _ in $(seq 1 200); do
    [ -f "$ORDERFLOW_CLUSTER_DIR/objects/deleted_orders/$id.json" ] && break
    sleep 0.1
  done
  [ -f "$ORDERFLOW_CLUSTER_DIR/objects/deleted_orders/$id.json" ] || fail "no archive object for $id"

  if [ "$1" = --nats ]; then
    [ "$(grep -c '  nats n[0-9]   running' <<<"$status")" -eq 3 ] || fail "status does not show 3 NATS nodes: $status"
    grep -q '^  bus       nats://127.0.0.1:' "$work/up.txt" || fail "up did not print the bus: $(cat "$work/up.txt")"
  fi
  pids=$(cat "$ORDERFLOW_CLUSTER_DIR"/*.pid "$ORDERFLOW_CLUSTER_DIR"/nats/n*/pid 2>/dev/null || true)
  scripts/cluster.sh down >/dev/null
  [ ! -e "$ORDERFLOW_CLUSTER_DIR" ] || fail "down left $ORDERFLOW_CLUSTER_DIR behind"
  for pid in $pids; do
    # A zombie is gone too: it only waits for its parent (init, for the daemons) to reap it.
    if kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
      fail "process $pid still runs after down"
    fi
  done
}

round ""
round --nats
echo "cluster.sh: up and up --nats: status, a create on api-1, a delete on api-2, archived, down: ok"
