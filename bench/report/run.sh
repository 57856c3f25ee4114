#!/usr/bin/env bash
# The deleted-orders report, orderflow (Cairo + Pango) beside ReportLab on the same archive.
#
#   bench/report/run.sh BUILD_DIR [ORDERS...]      (default: 100 10000 100000)
#
# For each size: archives that many orders into a temp object store, then times the whole
# report (a fresh process each run: list + read every object twice, render, store the PDF) and
# its peak RSS (/usr/bin/time), alternating with reportlab_report.py reading the same objects.
# Medians of RUNS runs (default 3); ReportLab runs once at 100,000 orders (it takes minutes).
# Prints a markdown table. Nothing is left behind.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [ORDERS...]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
shift
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100 10000 100000)
RUNS=${RUNS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3  # Debian's python3-reportlab lives there, not in a pyenv on PATH

"$PY" -c 'import reportlab.graphics._renderPM' 2>/dev/null ||
  { echo "python3-reportlab/python3-renderpm missing: run scripts/install-deps.sh" >&2; exit 1; }
cmake --build "$BUILD" --target report_bench >/dev/null
BIN=$BUILD/bench/report/report_bench

WORK=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-report-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# measure CMD...: runs CMD, prints "WALL_SECONDS MAX_RSS_KB CPU_SECONDS" (CPU = user + system).
measure() {
  if ! /usr/bin/time -f "%e %M %U %S" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err"; then
    echo "failed: $*" >&2
    cat "$WORK/out" "$WORK/err" >&2
    exit 1
  fi
  awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$WORK/time"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
pages() { pdfinfo "$1" | awk '/^Pages:/ { print $2 }'; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

rows=()
for n in "${SIZES[@]}"; do
  objects=$WORK/objects-$n
  echo "archiving $n orders..." >&2
  "$BIN" archive "$objects" "$n"
  rl_runs=$RUNS
  [ "$n" -ge 100000 ] && rl_runs=1
  : >"$WORK/ours.txt"
  : >"$WORK/rl.txt"
  for run in $(seq 1 "$RUNS"); do
    rm -rf "$objects/reports"  # never reuse: every run renders
    measure "$BIN" render "$objects" >>"$WORK/ours.txt"
    rl_now="not run"
    if [ "$run" -le "$rl_runs" ]; then
      measure "$PY" "$HERE/reportlab_report.py" "$objects" "$WORK/reportlab.pdf" >>"$WORK/rl.txt"
      rl_now=$(tail -1 "$WORK/rl.txt")
    fi
    echo "  $n orders, run $run: orderflow $(tail -1 "$WORK/ours.txt"), reportlab $rl_now (wall s, KB, cpu s)" >&2
  done
  ours_pdf=$(ls "$objects"/reports/deleted_orders_*.pdf)
  ours_s=$(awk '{ print $1 }' "$WORK/ours.txt" | median)
  ours_kb=$(awk '{ print $2 }' "$WORK/ours.txt" | median)
  rl_s=$(awk '{ print $1 }' "$WORK/rl.txt" | median)
  rl_kb=$(awk '{ print $2 }' "$WORK/rl.txt" | median)
  ours_cpu=$(awk '{ print $3 }' "$WORK/ours.txt" | median)
  rl_cpu=$(awk '{ print $3 }' "$WORK/rl.txt" | median)
  rows+=("| $n | $ours_s | $rl_s ($(wc -l <"$WORK/rl.txt")×) | $(ratio "$rl_s" "$ours_s")× | $ours_cpu | $rl_cpu | $(ratio "$rl_cpu" "$ours_cpu")× | $(mb "$ours_kb") | $(mb "$rl_kb") | $(ratio "$rl_kb" "$ours_kb")× | $(pages "$ours_pdf") / $(pages "$WORK/reportlab.pdf") | $(mb $(($(stat -c %s "$ours_pdf") / 1024))) / $(mb $(($(stat -c %s "$WORK/reportlab.pdf") / 1024))) |")
  rm -rf "$objects"
done

echo
echo "Deleted-orders report, $(nproc) cores (load $(cut -d' ' -f1-3 /proc/loadavg) at the end), medians of $RUNS runs of the whole process: wall time, CPU time (user + system), peak RSS."
echo
echo "| orders | orderflow wall s | ReportLab wall s (runs) | wall ratio | orderflow CPU s | ReportLab CPU s | CPU ratio | orderflow peak MB | ReportLab peak MB | memory ratio | pages (ours / RL) | PDF MB (ours / RL) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
