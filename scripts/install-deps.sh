#!/usr/bin/env bash
# Installs every Debian package orderflow needs to build, test and benchmark.
# Idempotent and quiet when everything is already there. Uses sudo when not root.
set -euo pipefail

# The one list of Debian packages the project needs.
PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config make git xxd
  # fuzzing (libFuzzer with ASan+UBSan) and lint (make fuzz, make lint)
  clang-14 libclang-rt-14-dev clang-format-14 clang-tidy-14
  # core libraries
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libsqlite3-dev libssl-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libcurl4-openssl-dev libpq-dev
  # the PostgreSQL store (server for the tests, cluster.sh and benchmarks)
  postgresql-15
  # the NATS JetStream bus (client library; server for the tests and cluster.sh)
  libnats-dev nats-server
  # reports and images
  libcairo2-dev libpango1.0-dev fonts-dejavu-core poppler-utils python3-reportlab python3-renderpm
  # the report's fallback fonts for what DejaVu (Latin, Greek, Cyrillic, Arabic, Hebrew) lacks,
  # outline fonts all, so the PDF's text stays searchable: CJK (Han, kana, every Hangul syllable;
  # 5 MB, where fonts-noto-cjk is 91 MB and fonts-droid-fallback registers no Hangul), Thai
  # (0.4 MB), emoji and symbols in black and white (3 MB; colour bitmap emoji become images)
  fonts-wqy-microhei fonts-tlwg-loma-ttf fonts-symbola
  libopencv-dev wordnet-base darknet
  # the upload decoder (src/adapters/imaging), without OpenCV's imgcodecs
  libjpeg62-turbo-dev libpng-dev libwebp-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev zlib1g-dev curl python3-aiosmtpd
  wrk nginx-light nodejs chromium
  # the Debian package (make deb) and its test
  dpkg-dev lintian
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# Nothing missing: skip apt, but still check the npm packages below.
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages for tests (s3rver, playwright-core), pinned by package-lock.json. Reinstalled
# only when node_modules is missing or older than the lock file.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -d "$ROOT/node_modules" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules" ]; then
  echo "install-deps: npm ci in $ROOT" >&2
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$ROOT/node_modules"
fi

# The web app's build tools (Vite, TypeScript), pinned by web/package-lock.json.
if [ ! -d "$ROOT/web/node_modules" ] || [ "$ROOT/web/package-lock.json" -nt "$ROOT/web/node_modules" ]; then
  echo "install-deps: npm ci in $ROOT/web" >&2
  (cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$ROOT/web/node_modules"
fi
