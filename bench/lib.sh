# Shared helpers for the bench scripts: free ports, starting orderflow and nginx, wrk parsing.
# Sourced, not run.

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_orderflow BIN DATA_DIR LOG [extra args...]: sets OF_PID and OF_URL.
start_orderflow() {
  local bin=$1 data=$2 log=$3
  shift 3
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$data" "$@" >"$log" 2>&1 &
  OF_PID=$!
  local i
  for i in $(seq 1 200); do
    OF_URL=$(grep -o 'listening on http://[0-9.:]*' "$log" 2>/dev/null | head -1 | sed 's/listening on //' || true)
    [ -n "$OF_URL" ] && return 0
    sleep 0.05
  done
  echo "orderflow did not start; log:" >&2
  cat "$log" >&2
  return 1
}

# seed_orders URL COUNT: creates COUNT orders at URL and prints the id of the last one.
seed_orders() {
  local url=$1 count=$2 i id=""
  for i in $(seq 1 "$count"); do
    id=$(curl -fs -H 'Content-Type: application/json' \
      -d "{\"description\":\"seed order number $i\",\"price\":$i.25}" "$url/orders" |
      /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["orderId"])')
  done
  echo "$id"
}

stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# start_nginx DIR PORT: a fixed 200 answer, the HTTP ceiling of this machine. Sets NGINX_PID.
start_nginx() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fcgi;
  uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$port reuseport;
    location / { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
  NGINX_PID=$!
  local i
  for i in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "nginx did not start" >&2
  return 1
}

# wrk_run URL [wrk args...]: prints "RPS P99_MS" of one run.
wrk_run() {
  local url=$1
  shift
  wrk --latency "$@" "$url" 2>&1 | awk '
    /Requests\/sec:/ { rps = $2 }
    /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v = v * 1000 } p99 = v }
    /Non-2xx or 3xx responses:/ { bad = $5 }
    END { printf "%s %s %s\n", rps, p99, (bad == "" ? 0 : bad) }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# subscribe_confirmed DATA_DIR EMAIL: subscribes EMAIL at $OF_URL, reads the confirmation mail
# from DATA_DIR's maildir (base64 text part) and follows its link. The link's page confirms
# nothing; its button POSTs to the same link.
subscribe_confirmed() {
  local data=$1 email=$2 file="" link="" i
  curl -fs -o /dev/null -H 'Content-Type: application/json' -d "{\"email\":\"$email\"}" "$OF_URL/subscriptions"
  for i in $(seq 1 400); do
    file=$(grep -l -i "^To: <$email>" "$data"/mail/new/* 2>/dev/null | head -1 || true)
    [ -n "$file" ] && break
    sleep 0.05
  done
  [ -n "$file" ] || { echo "no confirmation mail for $email" >&2; return 1; }
  link=$(awk 'body { print } /^\r?$/ { body = 1 }' "$file" | tr -d '\r' | base64 -d |
    grep -o '/subscriptions/confirm?token=[^[:space:]]*' | head -1)
  curl -fs -o /dev/null -X POST "$OF_URL$link"
}
