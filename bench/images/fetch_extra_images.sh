#!/usr/bin/env bash
# Fetches the evaluation set's extra photos from two Debian packages, without installing them:
# scikit-image's sample data (a cat, a coffee cup, a motorcycle, a rocket, ...) and
# matplotlib's (Grace Hopper in uniform, a gift box). apt-get download + dpkg-deb -x into DIR.
#   bench/images/fetch_extra_images.sh DIR      (image_eval reads them with --extra DIR)
set -euo pipefail
DIR="${1:?usage: fetch_extra_images.sh DIR}"
mkdir -p "$DIR/skimage" "$DIR/matplotlib"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q python3-skimage python-matplotlib-data >/dev/null 2>&1)
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/x"; done
skimage="$tmp/x/usr/lib/python3/dist-packages/skimage/data"
for f in chelsea.png coffee.png motorcycle_left.png astronaut.png camera.png clock_motion.png \
         coins.png horse.png rocket.jpg; do
  cp "$skimage/$f" "$DIR/skimage/"
done
cp "$tmp/x/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg" \
   "$tmp/x/usr/share/matplotlib/mpl-data/sample_data/Minduka_Present_Blue_Pack.png" "$DIR/matplotlib/"
echo "extra evaluation images in $DIR"
