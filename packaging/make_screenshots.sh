#!/usr/bin/env bash
# Renders the AppStream screenshots (packaging/org.featurescope.FeatureScope.metainfo.xml) from the
# built desktop app on the bundled demo, offscreen, one per view, into packaging/screenshots/.
# Run it after a visible change to the window; package_deb checks that every screenshot the
# metainfo names exists here with the size it states.
#
#   packaging/make_screenshots.sh [BUILD_DIR]        (default: build)
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$src/build}
app=$build/app/featurescope
[ -x "$app" ] || { echo "make_screenshots: $app is missing: build first" >&2; exit 1; }
out=$src/packaging/screenshots
mkdir -p "$out"
# A scratch settings folder: the demo models and the default layout, not this machine's last session.
config=$(mktemp -d)
trap 'rm -rf "$config"' EXIT
for view in compare saliency features; do
  env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen XDG_CONFIG_HOME="$config" \
    "$app" --screenshot "$out/.$view.tmp.png" --view "$view"
  mv "$out/.$view.tmp.png" "$out/$view.png"
  file -b "$out/$view.png"
done
