#!/usr/bin/env bash
# Throwaway NATS servers with JetStream on free loopback ports, for the tests and local runs.
#   scripts/nats-server.sh start DIR [NODES]   NODES=1 (default) or a cluster of 3; prints the
#                                              client URLs, comma-separated, once JetStream is ready
#   scripts/nats-server.sh stop DIR            stop every node (TERM, then KILL) and keep DIR
#   scripts/nats-server.sh kill-node DIR I     SIGKILL node I (0-based)
#   scripts/nats-server.sh start-node DIR I... start node(s) I again: same ports, same store
#   scripts/nats-server.sh init DIR [NODES]    only choose the ports and write the configs (print
#                                              the URLs); start-node then starts the nodes
# Node I lives in DIR/nI: nats.conf, port, http_port, pid, server.log and its JetStream store.
set -euo pipefail

usage="usage: nats-server.sh start|init DIR [1|3] | stop DIR | start-node DIR I... | kill-node DIR I"
cmd=${1:?$usage}
dir=${2:?$usage}

# N distinct free ports, one a line (Debian's python3 first: a pyenv shim takes 0.3 s a call).
free_ports() {
  local py=/usr/bin/python3
  [ -x "$py" ] || py=python3
  "$py" -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
for s in socks: print(s.getsockname()[1])' "$1"
}

# A live nats-server process with that PID (not a zombie, not a recycled PID).
alive() {
  [ -n "$1" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = nats-server ] &&
    [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]
}

node_pid() { cat "$dir/n$1/pid" 2>/dev/null || true; }

write_config() {  # I NODES
  local i=$1 nodes=$2 n="$dir/n$1" routes="" j
  mkdir -p "$n/store"
  {
    echo "server_name: n$i"
    echo "listen: 127.0.0.1:$(cat "$n/port")"
    echo "http: 127.0.0.1:$(cat "$n/http_port")"
    echo "jetstream { store_dir: \"$n/store\" }"
    if [ "$nodes" -gt 1 ]; then
      for ((j = 0; j < nodes; j++)); do
        routes="$routes${routes:+, }nats-route://127.0.0.1:$(cat "$dir/n$j/cluster_port")"
      done
      echo "cluster { name: orderflow, listen: 127.0.0.1:$(cat "$n/cluster_port"), routes: [$routes] }"
    fi
  } >"$n/nats.conf"
}

launch() {  # I
  local n="$dir/n$1"
  nats-server -c "$n/nats.conf" </dev/null >>"$n/server.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$n/pid"
  # Until the child has exec'd, /proc/PID/comm names this script, and alive() would call a
  # server that is still starting dead: wait for the exec (or for the child to be gone).
  local comm
  for _ in $(seq 500); do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || break
    [ "$comm" != nats-server ] || break
    [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] || break
    sleep 0.01
  done
}

# JetStream answers on the node's monitoring port and, in a cluster, the node knows a meta leader.
# (Not /healthz: on a restarted node 2.9 reports an idle consumer "not current" for good.)
ready() {  # I
  local base jsz
  base="http://127.0.0.1:$(cat "$dir/n$1/http_port")"
  if [ "$(cat "$dir/nodes")" = 1 ]; then
    curl -sf -m 2 -o /dev/null "$base/healthz?js-enabled-only=true"
  else
    jsz=$(curl -sf -m 2 "$base/jsz") && grep -q '"leader": *"[^"]' <<<"$jsz"
  fi
}

wait_ready() {  # I...
  local i all deadline=$((SECONDS + 30))
  while [ $SECONDS -lt $deadline ]; do
    all=1
    for i in "$@"; do
      alive "$(node_pid "$i")" || return 1
      ready "$i" || all=0
    done
    [ $all = 1 ] && return 0
    sleep 0.1
  done
  return 1
}

urls() {
  local nodes i out=""
  nodes=$(cat "$dir/nodes")
  for ((i = 0; i < nodes; i++)); do out="$out${out:+,}nats://127.0.0.1:$(cat "$dir/n$i/port")"; done
  echo "$out"
}

stop_node() {  # I [signal]
  local pid
  pid=$(node_pid "$1")
  alive "$pid" || { rm -f "$dir/n$1/pid"; return 0; }
  kill "-${2:-TERM}" "$pid" 2>/dev/null || true
  for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
  rm -f "$dir/n$1/pid"
}

# Free ports and a config per node, nothing started.
layout() {  # NODES
  local nodes=$1 i ports
  [ "$nodes" = 1 ] || [ "$nodes" = 3 ] || { echo "$usage" >&2; exit 2; }
  mkdir -p "$dir"
  echo "$nodes" >"$dir/nodes"
  mapfile -t ports < <(free_ports $((3 * nodes)))
  for ((i = 0; i < nodes; i++)); do
    mkdir -p "$dir/n$i"
    echo "${ports[3 * i]}" >"$dir/n$i/port"
    echo "${ports[3 * i + 1]}" >"$dir/n$i/http_port"
    echo "${ports[3 * i + 2]}" >"$dir/n$i/cluster_port"
  done
  for ((i = 0; i < nodes; i++)); do write_config "$i" "$nodes"; done
  urls >"$dir/urls"
}

case "$cmd" in
  init)
    layout "${3:-1}"
    cat "$dir/urls"
    ;;
  start)
    nodes=${3:-1}
    # A port another process took between the probe and the bind: try again with new ones.
    for _ in 1 2 3; do
      layout "$nodes"
      for ((i = 0; i < nodes; i++)); do launch "$i"; done
      if wait_ready $(seq 0 $((nodes - 1))); then
        cat "$dir/urls"
        exit 0
      fi
      for ((i = 0; i < nodes; i++)); do stop_node "$i" KILL; rm -rf "$dir/n$i/store"; done
    done
    echo "nats-server: could not start $nodes node(s) (see $dir/n*/server.log)" >&2
    exit 1
    ;;
  stop)
    [ -f "$dir/nodes" ] || exit 0
    for ((i = 0; i < $(cat "$dir/nodes"); i++)); do stop_node "$i" TERM; done
    ;;
  kill-node)
    stop_node "${3:?$usage}" KILL
    ;;
  start-node)
    # Several at once when a cluster comes back whole: one node alone never gets a meta leader.
    shift 2
    [ $# -gt 0 ] || { echo "$usage" >&2; exit 2; }
    for i in "$@"; do
      alive "$(node_pid "$i")" && { echo "nats-server: node $i is already running" >&2; exit 1; }
      launch "$i"
    done
    wait_ready "$@" || { echo "nats-server: node(s) $* did not start (see $dir/n*/server.log)" >&2; exit 1; }
    ;;
  *)
    echo "$usage" >&2
    exit 2
    ;;
esac
