#!/usr/bin/python3
"""Client side of bench/nats/run.sh (Python 3 stdlib only). Prints `key value` lines.

  client.py create URL N CONNS IDS_FILE   create N orders (bench/postgres/client.py's create)
  client.py lag URL IDS_FILE RATE ARCHIVE_DIR
        delete every id at a fixed RATE/s (open loop: each delete is sent at its scheduled time,
        whatever the answers before it took), then read each archive object's mtime: lag =
        archive object written - DELETE acknowledged, both on the wall clock of this machine
  client.py delete URL IDS_FILE CONNS     delete every id as fast as CONNS connections go
  client.py backlog METRICS_URL N         time from the first poll that sees
        orderflow_bus_relay_backlog fall below N to the first that sees 0: relay events/s
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "postgres"))
import client as pg  # noqa: E402  (connect, request, percentile, run_threads, create, delete)

THREADS = 8  # senders of the fixed-rate schedule; each has its own connection


def cmd_lag(url, ids_file, rate, archive_dir):
    ids = pg.read_ids(ids_file)
    acked = {}
    failures = [0]
    late = [0]  # deletes sent more than 10 ms after their scheduled time
    lock = threading.Lock()
    t0 = time.monotonic() + 0.2

    def work(i):
        c = pg.connect(url)
        for k in range(i, len(ids), THREADS):
            due = t0 + k / rate
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            elif now - due > 0.010:
                with lock:
                    late[0] += 1
            status, _ = pg.request(c, "DELETE", "/orders/" + ids[k])
            at = time.time()
            with lock:
                if status in (200, 204):
                    acked[ids[k]] = at
                else:
                    failures[0] += 1
        c.close()

    pg.run_threads(THREADS, work)
    sent_for = time.monotonic() - t0
    lags = []
    missing = 0
    deadline = time.monotonic() + 120
    for order_id, at in acked.items():
        path = os.path.join(archive_dir, order_id + ".json")
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            lags.append((os.stat(path).st_mtime_ns / 1e9 - at) * 1000)
        except FileNotFoundError:
            missing += 1
    print("deletes", len(ids))
    print("rate_per_s", f"{len(ids) / sent_for:.0f}")
    print("late_sends", late[0])
    print("delete_failures", failures[0])
    print("missing", missing)
    print("lag_p50_ms", f"{pg.percentile(lags, 50):.1f}")
    print("lag_p99_ms", f"{pg.percentile(lags, 99):.1f}")
    print("lag_max_ms", f"{max(lags) if lags else float('nan'):.1f}")


def backlog(c):
    status, body = pg.request(c, "GET", "/metrics")
    if status != 200:
        raise RuntimeError(f"GET /metrics: {status}")
    for line in body.decode().splitlines():
        if line.startswith("orderflow_bus_relay_backlog "):
            return int(float(line.split()[1]))
    return None


def cmd_backlog(metrics_url, n):
    c = pg.connect(metrics_url)
    first = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        left = backlog(c)
        now = time.monotonic()
        if left is not None and left < n and first is None:
            first = (now, left)
        if left == 0 and first is not None:
            relayed = n - first[1]
            print("relayed", n)
            print("relay_events_per_s", f"{relayed / max(now - first[0], 1e-3):.0f}")
            return
        time.sleep(0.002)
    print("timeout", 1)


def main(argv):
    cmd = argv[1]
    if cmd == "create":
        pg.cmd_create(argv[2], int(argv[3]), int(argv[4]), argv[5])
    elif cmd == "lag":
        cmd_lag(argv[2], argv[3], float(argv[4]), argv[5])
    elif cmd == "delete":
        pg.cmd_delete(argv[2], argv[3], int(argv[4]))
    elif cmd == "backlog":
        cmd_backlog(argv[2], int(argv[3]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
