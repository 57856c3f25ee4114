#!/usr/bin/env bash
# The footprint figures of the lean-and-fast issue, medians of RUNS runs on this machine:
# shared libraries, `orderflow --version`, start to /readyz on an existing data dir, and idle
# RSS with recognizer = none and with the model loaded.
# Usage: bench/footprint/run.sh [BUILD_DIR] [MODELS_DIR]   (env RUNS=7)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-build/release}/orderflow")
models=$(realpath "${2:-$here/../../../shared/models}")
RUNS=${RUNS:-7}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$bin" "$models" "$RUNS" "$work" <<'PY'
import os, re, statistics, subprocess, sys, time, urllib.request
binary, models, runs, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def start(recognizer):
    env = dict(os.environ, ORDERFLOW_RECOGNIZER=recognizer)
    t0 = time.monotonic()
    p = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", work + "/data"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    port = None
    for line in p.stdout:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = m.group(1)
            break
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                body = r.read().decode()
                if r.status == 200:
                    break
        except Exception:
            time.sleep(0.002)
    return p, port, (time.monotonic() - t0) * 1000

def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024

def idle_rss(recognizer):
    p, port, _ = start(recognizer)
    if recognizer != "none":  # the model loads in the background after ready
        while '"recognizer":"loaded"' not in urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz").read().decode():
            time.sleep(0.05)
    time.sleep(2)
    value = rss_mb(p.pid)
    p.terminate(); p.wait()
    return value

libs = len([l for l in subprocess.run(["ldd", binary], capture_output=True, text=True).stdout.splitlines() if l.strip()])
version = []
for _ in range(runs * 3):
    t0 = time.monotonic()
    subprocess.run([binary, "--version"], stdout=subprocess.DEVNULL, check=True)
    version.append((time.monotonic() - t0) * 1000)
start("none")[0].terminate()  # creates the data dir
ready = []
for _ in range(runs):
    p, _, ms = start("opencv:" + models)
    ready.append(ms); p.terminate(); p.wait()
none = statistics.median(idle_rss("none") for _ in range(3))
model = statistics.median(idle_rss("opencv:" + models) for _ in range(3))
print(f"| figure | median | target |\n|---|---:|---:|")
print(f"| shared libraries of the binary | {libs} | — |")
print(f"| `orderflow --version` | {statistics.median(version):.1f} ms | 20 ms |")
print(f"| start to `/readyz` 200, model configured | {statistics.median(ready):.1f} ms | 100 ms |")
print(f"| idle RSS, `recognizer = none` | {none:.1f} MB | 30 MB |")
print(f"| idle RSS, model loaded | {model:.1f} MB | 60 MB |")
PY
