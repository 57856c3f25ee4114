#!/usr/bin/python3
"""Client side of bench/postgres/run.sh (Python 3 stdlib only). Prints `key value` lines.

  client.py cpu PID...                       CPU ticks of each PID (+ its children), then the machine's
  client.py create URL N CONNS IDS_FILE      create N orders, write their ids to IDS_FILE
  client.py drain URL IDS_FILE CONNS TARGET METRICS_URL[,METRICS_URL...] [NAME=PID ...]
        delete every id as fast as CONNS connections go, and time until the sum of
        orderflow_deliveries_delivered_total over the METRICS_URLs has grown by TARGET; CPU of
        each named PID (and its children) over that window, in cores
  client.py delete URL IDS_FILE CONNS        delete every id (no waiting for deliveries)
  client.py backlog TARGET METRICS_URL[,...] [NAME=PID ...]
        workers that just started on a backlog: events/s until the counters reach TARGET
  client.py sse POST_URL EVENTS_URL RATE SAMPLES
        long-poll GET /events on EVENTS_URL while creating orders on POST_URL at RATE/s; latency
        from each POST's 201 to the /events answer that carries its order.created
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

BODY = json.dumps({"description": "bench order", "price": 12.50})
HEADERS = {"Content-Type": "application/json"}


def connect(url, timeout=30):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)


def request(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read()


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


# --- CPU accounting from /proc ------------------------------------------------------------

def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # The command name is in parentheses and may contain spaces: split after the last ')'.
    rest = text[text.rindex(")") + 2:].split()
    return rest  # rest[0] is field 3 (state); rest[1] is ppid (field 4)


def cpu_ticks(pid):
    """utime+stime of pid, its reaped children (cutime+cstime) and its live children."""
    try:
        f = stat_fields(pid)
    except OSError:
        return 0
    total = sum(int(x) for x in f[11:15])  # utime stime cutime cstime: fields 14..17
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            c = stat_fields(entry)
        except OSError:
            continue
        if c[1] == str(pid):
            total += int(c[11]) + int(c[12])
    return total


def machine_ticks():
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    return sum(cpu), cpu[3] + cpu[4]  # total, idle + iowait


def cmd_cpu(pids):
    for pid in pids:
        print(pid, cpu_ticks(pid))
    total, idle = machine_ticks()
    print("machine_total", total)
    print("machine_idle", idle)


class CpuWindow:
    """CPU of named PIDs over a window, in cores; PIDs that share a name are summed."""

    def __init__(self, named):
        self.named = named
        self.start = [cpu_ticks(p) for _, p in named]
        self.machine = machine_ticks()
        self.t0 = time.monotonic()

    def report(self, prefix="cpu_"):
        elapsed = time.monotonic() - self.t0
        hz = os.sysconf("SC_CLK_TCK")
        sums = {}
        for (n, p), start in zip(self.named, self.start):
            sums[n] = sums.get(n, 0) + cpu_ticks(p) - start
        for n, ticks in sums.items():
            print(f"{prefix}{n}", f"{ticks / hz / elapsed:.2f}")
        total, idle = machine_ticks()
        dt = total - self.machine[0]
        print(f"{prefix}machine_idle_pct", f"{100.0 * (idle - self.machine[1]) / dt:.0f}" if dt else "nan")


# --- create / delete / drain --------------------------------------------------------------

def run_threads(n, target):
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def cmd_create(url, n, conns, ids_file):
    ids = [None] * n
    failures = [0]
    lock = threading.Lock()

    def work(i):
        c = connect(url)
        for k in range(i, n, conns):
            status, body = request(c, "POST", "/orders", BODY, HEADERS)
            if status != 201:
                with lock:
                    failures[0] += 1
                continue
            ids[k] = json.loads(body)["orderId"]
        c.close()

    t0 = time.monotonic()
    run_threads(conns, work)
    elapsed = time.monotonic() - t0
    with open(ids_file, "w") as f:
        for i in ids:
            if i:
                f.write(i + "\n")
    print("create_per_s", f"{n / elapsed:.0f}")
    print("create_failures", failures[0])


def delivered(conns_by_url):
    total = 0
    for url, c in conns_by_url.items():
        status, body = request(c, "GET", "/metrics")
        if status != 200:
            raise RuntimeError(f"GET {url}/metrics: {status}")
        for line in body.decode().splitlines():
            if line.startswith("orderflow_deliveries_delivered_total "):
                total += int(float(line.split()[1]))
    return total


def delete_all(url, ids, conns):
    """Deletes every id over conns connections; returns (t_last_ack, failures)."""
    failures = [0]
    lock = threading.Lock()
    last_ack = [0.0]

    def work(i):
        c = connect(url)
        for k in range(i, len(ids), conns):
            status, _ = request(c, "DELETE", "/orders/" + ids[k])
            now = time.monotonic()
            with lock:
                if status != 200 and status != 204:
                    failures[0] += 1
                last_ack[0] = max(last_ack[0], now)
        c.close()

    run_threads(conns, work)
    return last_ack[0], failures[0]


def read_ids(ids_file):
    with open(ids_file) as f:
        return [line.strip() for line in f if line.strip()]


def wait_for(mconns, base, target, timeout=300):
    """Polls the counters until they grew by target. (done_at or None, count, first_seen)."""
    deadline = time.monotonic() + timeout
    first = None  # (time, count) of the first poll that saw a delivery
    count = base
    while time.monotonic() < deadline:
        count = delivered(mconns)
        now = time.monotonic()
        if first is None and count > base:
            first = (now, count)
        if count - base >= target:
            return now, count, first
        time.sleep(0.01)
    return None, count, first


def cmd_drain(url, ids_file, conns, target, metrics_urls, cpu_named):
    """Deletes while the workers run: first delete sent -> the last delivery counted."""
    ids = read_ids(ids_file)
    mconns = {u: connect(u) for u in metrics_urls}
    base = delivered(mconns)
    window = CpuWindow(cpu_named)
    t0 = time.monotonic()
    last_ack, failures = delete_all(url, ids, conns)
    done_at, count, _ = wait_for(mconns, base, target)
    n = len(ids)
    if done_at is None:
        print("timeout", 1)
        done_at = time.monotonic()
    elapsed = done_at - t0
    window.report()
    print("deletes", n)
    print("delivered", count - base)
    print("delete_failures", failures)
    print("delete_ack_per_s", f"{n / (last_ack - t0):.0f}")
    print("events_per_s", f"{n / elapsed:.0f}")
    print("deliveries_per_s", f"{(count - base) / elapsed:.0f}")
    print("drain_after_last_ack_ms", f"{1000 * (done_at - last_ack):.0f}")


def cmd_delete(url, ids_file, conns):
    ids = read_ids(ids_file)
    t0 = time.monotonic()
    last_ack, failures = delete_all(url, ids, conns)
    print("deletes", len(ids))
    print("delete_failures", failures)
    print("delete_ack_per_s", f"{len(ids) / (last_ack - t0):.0f}")


def cmd_backlog(target, metrics_urls, cpu_named):
    """Workers just launched on a backlog: deliveries per second from the first poll that saw
    one to the last (start-up excluded), as events (3 deliveries each) per second."""
    # The workers were launched just before this on known ports: wait until each one answers
    # (its HTTP server starts before its dispatcher), so the first delivery is not missed.
    window = CpuWindow(cpu_named)
    mconns = {}
    deadline = time.monotonic() + 30
    for u in metrics_urls:
        while True:
            c = connect(u)
            try:
                request(c, "GET", "/metrics")
                mconns[u] = c
                break
            except OSError:
                c.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.005)
    done_at, count, first = wait_for(mconns, 0, target)
    if done_at is None:
        print("timeout", 1)
        done_at = time.monotonic()
    window.report()
    print("delivered", count)
    if first is None or done_at <= first[0]:
        print("backlog_events_per_s", "nan")
    else:
        print("backlog_events_per_s", f"{(count - first[1]) / 3 / (done_at - first[0]):.0f}")
        print("backlog_seen_at_start", first[1])


# --- commit -> SSE latency ----------------------------------------------------------------

def parse_events(body):
    """(last id, [(type, subject)]) of an SSE body."""
    last = None
    events = []
    for block in body.split("\n\n"):
        ev_id = ev_type = None
        data = []
        for line in block.split("\n"):
            if line.startswith("id: "):
                ev_id = int(line[4:])
            elif line.startswith("event: "):
                ev_type = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if ev_id is not None:
            last = ev_id
        if ev_type and ev_type != "ready" and data:
            events.append((ev_type, json.loads("\n".join(data)).get("subject")))
    return last, events


def cmd_sse(post_url, events_url, rate, samples):
    received = {}
    stop = threading.Event()
    errors = []

    listener = connect(events_url)
    status, body = request(listener, "GET", "/events")
    if status != 200:
        raise RuntimeError(f"GET /events: {status}")
    position, _ = parse_events(body.decode())

    def listen():
        nonlocal position
        c = listener
        while not stop.is_set():
            try:
                status, body = request(c, "GET", f"/events?after={position}")
            except (OSError, http.client.HTTPException) as e:
                if stop.is_set():
                    return
                errors.append(f"events: {e}")
                c = connect(events_url)
                continue
            now = time.monotonic()
            if status != 200:
                errors.append(f"events: HTTP {status}")
                time.sleep(0.1)
                continue
            last, events = parse_events(body.decode())
            if last is not None:
                position = last
            for ev_type, subject in events:
                if ev_type.endswith("order.created") and subject not in received:
                    received[subject] = now

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    time.sleep(0.2)  # the first long-poll is waiting

    posted = {}
    post_ms = []
    c = connect(post_url)
    start = time.monotonic()
    late = 0
    for i in range(samples):
        due = start + i / rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        else:
            late += 1
        t_send = time.monotonic()
        last_send = t_send
        status, body = request(c, "POST", "/orders", BODY, HEADERS)
        t_ack = time.monotonic()
        if status != 201:
            errors.append(f"POST: HTTP {status}")
            continue
        posted[json.loads(body)["orderId"]] = t_ack
        post_ms.append(1000 * (t_ack - t_send))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(k in received for k in posted):
        time.sleep(0.01)
    stop.set()
    lat = []
    before_ack = 0
    missing = 0
    for order_id, t_ack in posted.items():
        t_recv = received.get(order_id)
        if t_recv is None:
            missing += 1
            continue
        if t_recv < t_ack:
            before_ack += 1
        lat.append(max(0.0, 1000 * (t_recv - t_ack)))
    print("samples", len(lat))
    print("missing", missing)
    print("before_ack", before_ack)
    print("sender_late", late)
    print("errors", len(errors))
    for e in errors[:5]:
        print("error", e.replace(" ", "_"))
    print("achieved_rate", f"{(samples - 1) / (last_send - start):.0f}" if samples > 1 else "nan")
    for p in (50, 90, 99):
        print(f"sse_p{p}_ms", f"{percentile(lat, p):.1f}")
    print("sse_max_ms", f"{max(lat) if lat else float('nan'):.1f}")
    print("post_p50_ms", f"{percentile(post_ms, 50):.1f}")
    print("post_p99_ms", f"{percentile(post_ms, 99):.1f}")


def main(argv):
    cmd = argv[1]
    if cmd == "cpu":
        cmd_cpu(argv[2:])
    elif cmd == "create":
        cmd_create(argv[2], int(argv[3]), int(argv[4]), argv[5])
    elif cmd == "drain":
        named = [tuple(a.split("=", 1)) for a in argv[7:]]
        cmd_drain(argv[2], argv[3], int(argv[4]), int(argv[5]), argv[6].split(","), named)
    elif cmd == "delete":
        cmd_delete(argv[2], argv[3], int(argv[4]))
    elif cmd == "backlog":
        cmd_backlog(int(argv[2]), argv[3].split(","), [tuple(a.split("=", 1)) for a in argv[4:]])
    elif cmd == "sse":
        cmd_sse(argv[2], argv[3], float(argv[4]), int(argv[5]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
