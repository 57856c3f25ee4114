#!/usr/bin/env bash
# make deb as an installer sees it: builds the package of a built tree into a temp dir, checks
# its files and control fields, runs lintian (every tag fails the test; the justified ones are
# overridden in packaging/deb/lintian-overrides), verifies the systemd units when systemd-analyze
# is there, then extracts the package with dpkg-deb -x and starts the packaged binary with the
# packaged config, pointed at a temp data dir and port 0: /readyz, an order created and read
# back, and the web app at /.
# Usage: deb_test.sh BUILD_DIR (the directory holding the orderflow binary)
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-deb-test-XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

deb=$(scripts/build-deb.sh "$build_dir" "$work/out")
[ -f "$deb" ] || fail "build-deb.sh printed no package: $deb"
version=$("$build_dir/orderflow" --version | awk '{print $NF}')

# Files.
dpkg-deb -c "$deb" | awk '{print $NF}' >"$work/files"
for f in ./usr/bin/orderflow ./usr/lib/orderflow/orderflow-vision.so ./etc/orderflow/orderflow.toml \
  ./lib/systemd/system/orderflow.service ./lib/systemd/system/orderflow-worker@.service \
  ./usr/share/doc/orderflow/copyright ./usr/share/doc/orderflow/changelog.gz \
  ./usr/share/man/man1/orderflow.1.gz; do
  grep -qxF "$f" "$work/files" || fail "the package has no $f: $(cat "$work/files")"
done
if grep -q 'models' "$work/files"; then fail "the package ships model files"; fi
dpkg-deb -c "$deb" | awk '$2 != "root/root" {exit 1}' || fail "files not owned by root"

# Control fields.
[ "$(dpkg-deb -f "$deb" Package)" = orderflow ] || fail "Package is not orderflow"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version is not $version"
depends=$(dpkg-deb -f "$deb" Depends)
for d in adduser libc6 libsqlite3-0; do
  grep -q "\b$d\b" <<<"$depends" || fail "Depends lacks $d: $depends"
done
dpkg-deb -I "$deb" conffiles | grep -qxF /etc/orderflow/orderflow.toml ||
  fail "conffiles does not list /etc/orderflow/orderflow.toml"
for script in postinst prerm postrm; do
  dpkg-deb -I "$deb" "$script" >/dev/null || fail "no $script"
done
dpkg-deb -I "$deb" postinst | grep -q 'adduser --system --group' || fail "postinst creates no system user"

# lintian: nothing (errors, warnings) beyond what the overrides justify.
command -v lintian >/dev/null || fail "lintian is not installed (scripts/install-deps.sh installs it)"
tags=$(lintian "$deb" 2>/dev/null) || fail "lintian failed: $tags"
[ -z "$tags" ] || fail "lintian tags: $tags"

# Extract it.
root="$work/root"
dpkg-deb -x "$deb" "$root"
bin="$root/usr/bin/orderflow"
[ -x "$bin" ] || fail "extracted binary is not executable"

# The units, with ExecStart pointed at the extracted binary (verify checks it exists).
if command -v systemd-analyze >/dev/null; then
  mkdir "$work/units"
  sed "s|/usr/bin/orderflow|$bin|" "$root/lib/systemd/system/orderflow.service" >"$work/units/orderflow.service"
  sed "s|/usr/bin/orderflow|$bin|" "$root/lib/systemd/system/orderflow-worker@.service" \
    >"$work/units/orderflow-worker@9101.service"
  out=$(systemd-analyze verify --man=no "$work/units/orderflow.service" \
    "$work/units/orderflow-worker@9101.service" 2>&1) || fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify: $out"
fi

# The packaged config, moved to temp paths; everything else as shipped.
data="$work/data"
sed -e "s|^data_dir = .*|data_dir = \"$data\"|" -e 's|^listen = .*|listen = "127.0.0.1:0"|' \
  "$root/etc/orderflow/orderflow.toml" >"$work/orderflow.toml"
grep -q "^data_dir = \"$data\"" "$work/orderflow.toml" || fail "the packaged config sets no data_dir"
grep -q '^recognizer = ' "$work/orderflow.toml" || fail "the packaged config has no recognizer setting"
"$bin" serve --config "$work/orderflow.toml" >"$work/serve.log" 2>&1 &
pid=$!

url=""
for _ in $(seq 1 300); do
  kill -0 "$pid" 2>/dev/null || fail "the packaged binary exited: $(cat "$work/serve.log")"
  if line=$(grep -o 'listening on http://[0-9.:]*' "$work/serve.log" 2>/dev/null | head -1); then
    url=${line#listening on }
    curl -fsS "$url/readyz" >/dev/null 2>&1 && break
  fi
  sleep 0.1
done
[ -n "$url" ] || fail "no listen address in the log: $(cat "$work/serve.log")"
curl -fsS "$url/readyz" >/dev/null || fail "not ready: $(cat "$work/serve.log")"

created=$(curl -fsS -XPOST "$url/orders" -H 'Content-Type: application/json' \
  -d '{"description":"a packaged lamp","price":"19.99"}')
id=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["orderId"])' "$created")
curl -fsS "$url/orders/$id" | grep -q '"a packaged lamp"' || fail "order $id not read back"
[ -f "$data/orderflow.db" ] || fail "no database in the configured data_dir"
curl -fsS "$url/" | grep -qi '<!doctype html' || fail "no web app at /"

kill "$pid"
wait "$pid" 2>/dev/null || true

# The photo check through the packaged module (found from usr/bin in ../lib/orderflow), when the
# model files are here.
models="$(pwd)/../shared/models"
if [ -f "$models/mobilenetv2-12-int8.onnx" ] && [ -f /usr/share/wordnet/data.noun ]; then
  ORDERFLOW_RECOGNIZER="opencv:$models" "$bin" serve --config "$work/orderflow.toml" \
    >"$work/serve2.log" 2>&1 &
  pid=$!
  loaded=""
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || fail "the packaged binary exited: $(cat "$work/serve2.log")"
    if line=$(grep -o 'listening on http://[0-9.:]*' "$work/serve2.log" 2>/dev/null | head -1); then
      if curl -fsS "${line#listening on }/readyz" 2>/dev/null | grep -q '"recognizer":"loaded"'; then
        loaded=yes
        break
      fi
    fi
    sleep 0.1
  done
  [ -n "$loaded" ] || fail "the packaged image check did not load: $(cat "$work/serve2.log")"
  grep -qF "$root/usr/lib/orderflow/orderflow-vision.so" "/proc/$pid/maps" ||
    fail "the image check did not come from the packaged module"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  checked_photo=", and loaded the photo check from its module"
fi
pid=""
echo "deb_test: $(basename "$deb"): files, control, lintian clean, extracted binary served an order and the web app${checked_photo:-}: ok"
