#!/usr/bin/env bash
# Builds the Debian package of an already built tree: scripts/build-deb.sh BUILD_DIR [OUT_DIR].
# Stages the install tree (stripped binary, config, systemd units, docs), computes Depends with
# dpkg-shlibdeps, and writes OUT_DIR/orderflow_<version>_<arch>.deb (OUT_DIR defaults to
# BUILD_DIR). Prints the path of the package.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [OUT_DIR]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$(cd "$1" && pwd)
out_dir=${2:-$build_dir}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
src="$root/packaging/deb"
bin="$build_dir/orderflow"
[ -x "$bin" ] || { echo "build-deb: no binary at $bin (build first)" >&2; exit 1; }

version=$("$bin" --version | awk '{print $NF}')
arch=$(dpkg --print-architecture)
# The changelog's date: the last commit's, so two builds of one commit give the same package.
date_s=$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH=$date_s

work=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-deb-XXXXXX")
trap 'rm -rf "$work"' EXIT
stage="$work/orderflow"
doc="$stage/usr/share/doc/orderflow"
install -d "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/lib/orderflow" "$stage/etc/orderflow" "$doc" \
  "$stage/lib/systemd/system" "$stage/usr/share/lintian/overrides" "$stage/usr/share/man/man1"

objcopy --strip-unneeded --remove-section=.comment --remove-section=.note "$bin" "$stage/usr/bin/orderflow"
chmod 0755 "$stage/usr/bin/orderflow"
# The photo check's module (OpenCV and the decoders), loaded from ../lib/orderflow when
# `recognizer` names a model.
vision="$build_dir/orderflow-vision.so"
[ -f "$vision" ] || { echo "build-deb: no $vision (build first)" >&2; exit 1; }
objcopy --strip-unneeded --remove-section=.comment --remove-section=.note "$vision" \
  "$stage/usr/lib/orderflow/orderflow-vision.so"
chmod 0644 "$stage/usr/lib/orderflow/orderflow-vision.so"
install -m 0644 "$src/orderflow.toml" "$stage/etc/orderflow/orderflow.toml"
install -m 0644 "$src/orderflow.service" "$src/orderflow-worker@.service" "$stage/lib/systemd/system/"
install -m 0644 "$src/copyright" "$doc/copyright"
install -m 0644 "$root/README.md" "$doc/README.md"
install -m 0644 "$src/lintian-overrides" "$stage/usr/share/lintian/overrides/orderflow"
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -u -R -d "@$date_s")/" "$src/changelog" \
  | gzip -9n >"$doc/changelog.gz"
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -u -d "@$date_s" '+%B %Y')/" "$src/orderflow.1" \
  | gzip -9n >"$stage/usr/share/man/man1/orderflow.1.gz"
chmod 0644 "$doc/changelog.gz" "$stage/usr/share/man/man1/orderflow.1.gz"

# dpkg-shlibdeps wants a debian/control in the current directory; a minimal one in the work dir.
mkdir -p "$work/debian"
printf 'Source: orderflow\n\nPackage: orderflow\nArchitecture: any\n' >"$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O "orderflow/usr/bin/orderflow" \
  "orderflow/usr/lib/orderflow/orderflow-vision.so" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
rm -rf "$work/debian"

install -m 0644 "$src/conffiles" "$stage/DEBIAN/conffiles"
install -m 0755 "$src/postinst" "$src/prerm" "$src/postrm" "$stage/DEBIAN/"
installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_size/" \
  -e "s/@DEPENDS@/$depends/" "$src/control.in" >"$stage/DEBIAN/control"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z \
  | xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$stage/DEBIAN/md5sums" "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles"
find "$stage" -type d -exec chmod 0755 {} +

deb="$out_dir/orderflow_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
