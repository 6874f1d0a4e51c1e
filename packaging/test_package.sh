#!/usr/bin/env bash
# Builds the Debian package with cpack, unpacks it into a scratch root (dpkg -x) and runs the
# installed programs from there: the CLI demo prediction, --version of both executables, the
# desktop-file / AppStream validators on the installed files, the Debian documentation files (DEP-5
# copyright, changelog, man pages) and lintian, which must report no error and no warning. Also
# shows that the installed binary reads its resources from <root>/usr/share/featurescope, not from
# the source tree.
#
#   packaging/test_package.sh BUILD_DIR VERSION [CPACK]      (ctest: package_deb)
#
# A missing tool is a failure, not a skip: packaging/setup.sh installs all of them.
set -euo pipefail

build=${1:?usage: test_package.sh BUILD_DIR VERSION [CPACK]}
version=${2:?usage: test_package.sh BUILD_DIR VERSION [CPACK]}
cpack=${3:-cpack}
appid=org.featurescope.FeatureScope
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

fail() {
  echo "package_deb: FAIL: $*" >&2
  exit 1
}
step() { echo "== $*"; }

# --- tools -------------------------------------------------------------------------------------
declare -A provider=([dpkg-deb]=dpkg [dpkg]=dpkg [dpkg-shlibdeps]=dpkg-dev [file]=file
  [desktop-file-validate]=desktop-file-utils [appstreamcli]=appstream [readelf]=binutils [lintian]=lintian)
for tool in "${!provider[@]}"; do
  command -v "$tool" >/dev/null ||
    fail "'$tool' is missing (apt-get install ${provider[$tool]}; packaging/setup.sh installs it)"
done
command -v "$cpack" >/dev/null || fail "cpack not found at '$cpack'"
[ -f "$build/CPackConfig.cmake" ] || fail "$build/CPackConfig.cmake missing: configure the build first"

work=$build/package-test
rm -rf "$work"
mkdir -p "$work/out"

# --- build the package -------------------------------------------------------------------------
step "cpack"
start=$(date +%s)
(cd "$build" && "$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$work/out") >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack failed (log above)"; }
echo "cpack took $(($(date +%s) - start)) s"

arch=$(dpkg --print-architecture)
deb=$work/out/featurescope_${version}_${arch}.deb
mapfile -t debs < <(find "$work/out" -maxdepth 1 -name '*.deb' -printf '%f\n')
[ "${#debs[@]}" -eq 1 ] || fail "expected exactly one .deb in $work/out, found: ${debs[*]:-none}"
[ -f "$deb" ] || fail "the package is named ${debs[0]}, expected $(basename "$deb")"
echo "$(basename "$deb"): $(du -h "$deb" | cut -f1)"

# --- control fields ----------------------------------------------------------------------------
step "dpkg-deb -I"
dpkg-deb -f "$deb"
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = featurescope ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', expected $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is '$(field Architecture)'"
[ -n "$(field Maintainer)" ] || fail "no Maintainer field"
[ -n "$(field Section)" ] || fail "no Section field"
depends=$(field Depends)
# Versioned entries such as "libc6 (>= 2.34)" and "libqt6core6 (>= 6.x)" come only from
# dpkg-shlibdeps; the hand-written part of the list is the unversioned qt6-qpa-plugins.
for pattern in 'libc6 \(>= ' 'libstdc\+\+6 \(>= ' 'libtorch[0-9.]+' 'libopencv-core[0-9]+' \
  'libopencv-imgcodecs[0-9]+' 'libqt6core6 \(>= ' 'libqt6gui6 \(>= ' 'libqt6widgets6 \(>= ' \
  'qt6-qpa-plugins'; do
  echo "$depends" | grep -Eq "(^|, )$pattern" || fail "Depends lacks /$pattern/ (not from dpkg-shlibdeps?): $depends"
done

# --- contents ----------------------------------------------------------------------------------
step "dpkg-deb -c"
contents=$(dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|')
expect=(/usr/bin/featurescope /usr/bin/featurescope-cli
  "/usr/share/applications/$appid.desktop" "/usr/share/metainfo/$appid.metainfo.xml"
  "/usr/share/icons/hicolor/scalable/apps/$appid.svg"
  /usr/share/doc/featurescope/copyright /usr/share/doc/featurescope/changelog.gz
  /usr/share/man/man1/featurescope.1.gz /usr/share/man/man1/featurescope-cli.1.gz)
for size in 16 24 32 48 64 128 256; do expect+=("/usr/share/icons/hicolor/${size}x${size}/apps/$appid.png"); done
# Every resource file of the source tree ships (demo models are added over time).
while IFS= read -r f; do
  expect+=("/usr/share/featurescope/$f")
done < <(cd "$src/resources" && find . -type f ! -name '*.tmp-*' ! -name '.*' -printf '%P\n' | sort)
for f in "${expect[@]}"; do
  grep -qxF "$f" <<<"$contents" || fail "the package lacks $f"
done
n_models=$(grep -c '^/usr/share/featurescope/models/.*\.safetensors$' <<<"$contents" || true)
[ "$n_models" -ge 1 ] || fail "no demo weights in the package"
echo "${#expect[@]} expected files present ($n_models demo models)"
bad=$(grep -E "^$src/|^$build/|/CMakeFiles/|\.tmp-" <<<"$contents" || true)
[ -z "$bad" ] || fail "the package contains build-tree files: $bad"

# --- unpack into a scratch root ----------------------------------------------------------------
root=$work/root
step "dpkg -x into $root"
dpkg -x "$deb" "$root"
cli=$root/usr/bin/featurescope-cli
gui=$root/usr/bin/featurescope
share=$root/usr/share/featurescope
for exe in "$cli" "$gui"; do
  [ -x "$exe" ] || fail "$exe is not executable"
  rpath=$(readelf -d "$exe" | grep -E 'RPATH|RUNPATH' || true)
  [ -z "$rpath" ] || fail "$exe carries a library search path from the build: $rpath"
done
# The demo prediction below must not be steered by the environment.
unset FEATURESCOPE_RESOURCES

step "featurescope-cli --version / featurescope --version"
cliv=$("$cli" --version) || fail "featurescope-cli --version exited with $?"
guiv=$(env -u DISPLAY -u WAYLAND_DISPLAY "$gui" --version) || fail "featurescope --version exited with $?"
echo "$cliv"
echo "$guiv"
re="^featurescope(-cli)? ${version//./\\.} \\(LibTorch [0-9][^,]*, OpenCV [0-9][^,]*, Qt [0-9][^)]*\\)$"
[[ $cliv =~ $re ]] || fail "unexpected featurescope-cli --version output: $cliv"
[[ $guiv =~ $re ]] || fail "unexpected featurescope --version output: $guiv"

step "featurescope-cli predict (installed demo model and sample)"
sample=$share/samples/fmnist_0000_ankle-boot.png
[ -f "$sample" ] || fail "$sample is not in the package"
predict() { "$cli" predict convmlp_fmnist --image "$sample" --top 1 --json; }
out=$(predict) || fail "featurescope-cli predict exited with $?"
echo "$out"
grep -q '"label": "Ankle boot"' <<<"$out" || fail "the installed demo model did not predict 'Ankle boot'"
grep -Eq '"prob": 0\.[5-9]|"prob": 1' <<<"$out" || fail "the prediction is not confident: trained weights not loaded?"

# The source tree also holds labels and weights; these two runs show the installed ones are read.
step "resources come from $share"
cp "$share/labels/fashion_mnist_classes.txt" "$work/labels.orig"
for i in $(seq 0 9); do echo "installed label $i"; done >"$share/labels/fashion_mnist_classes.txt"
out=$(predict) || fail "predict with relabelled installed labels exited with $?"
grep -q '"label": "installed label 9"' <<<"$out" ||
  fail "the CLI did not read $share/labels (output: $out)"
cp "$work/labels.orig" "$share/labels/fashion_mnist_classes.txt"
weights=$share/models/convmlp_fmnist.safetensors
cp "$weights" "$work/weights.orig"
printf 'not a safetensors file' >"$weights"
set +e
err=$("$cli" predict convmlp_fmnist --image "$sample" 2>&1 >/dev/null)
rc=$?
set -e
cp "$work/weights.orig" "$weights"
[ "$rc" -eq 3 ] || fail "a corrupt installed weights file should exit 3 (bad input), got $rc: $err"
grep -qF "$weights" <<<"$err" || fail "the CLI did not read $weights (error: $err)"
echo "labels and weights read from $share"

step "featurescope --screenshot (offscreen, installed tree)"
shot=$work/screenshot.png
env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen "$gui" --screenshot "$shot" ||
  fail "featurescope --screenshot exited with $?"
# The window asks for 1600x940; its docks may make it a little wider, never smaller.
file -b "$shot" | grep -qE '^PNG image data, 1[6-9][0-9]{2} x 940,' || fail "$shot is not a PNG of at least 1600x940: $(file -b "$shot")"

# --- desktop integration -----------------------------------------------------------------------
step "desktop-file-validate"
desktop=$root/usr/share/applications/$appid.desktop
desktop-file-validate "$desktop" || fail "desktop-file-validate rejected $desktop"
grep -qx "Icon=$appid" "$desktop" || fail "$desktop: Icon is not $appid"
grep -qx "Exec=featurescope %F" "$desktop" || fail "$desktop: Exec is not 'featurescope %F'"

step "appstreamcli validate --no-net"
metainfo=$root/usr/share/metainfo/$appid.metainfo.xml
appstreamcli validate --no-net "$metainfo" || fail "appstreamcli validate rejected $metainfo"
# The installed tree as a whole: the launchable desktop file must be there too.
appstreamcli validate-tree --no-net "$root" || fail "appstreamcli validate-tree rejected $root"
grep -qF "<id>$appid</id>" "$metainfo" || fail "$metainfo: id is not $appid"
grep -qF "<launchable type=\"desktop-id\">$appid.desktop</launchable>" "$metainfo" ||
  fail "$metainfo: launchable is not $appid.desktop"
grep -qF "<release version=\"$version\"" "$metainfo" || fail "$metainfo: no release entry for $version"
# Every screenshot the metainfo names is in packaging/screenshots (make_screenshots.sh) at its size.
shots=$(grep -oE '<image type="source" width="[0-9]+" height="[0-9]+">[^<]+' "$metainfo" || true)
[ -n "$shots" ] || fail "$metainfo lists no screenshots"
while IFS= read -r line; do
  w=$(sed -E 's/.*width="([0-9]+)".*/\1/' <<<"$line")
  h=$(sed -E 's/.*height="([0-9]+)".*/\1/' <<<"$line")
  png=$src/packaging/screenshots/$(basename "${line##*>}")
  [ -f "$png" ] || fail "$metainfo names $(basename "$png"), which is not in packaging/screenshots"
  file -b "$png" | grep -q "^PNG image data, $w x $h," || fail "$png is not ${w}x${h}: $(file -b "$png")"
done <<<"$shots"
for f in "$root"/usr/share/icons/hicolor/*x*/apps/"$appid".png; do
  size=$(basename "$(dirname "$(dirname "$f")")")
  file -b "$f" | grep -q "^PNG image data, ${size/x/ x }," || fail "$f is not a ${size} PNG: $(file -b "$f")"
done

# --- Debian documentation and lintian ----------------------------------------------------------
step "copyright, changelog, man pages"
doc=$root/usr/share/doc/featurescope
cmp -s "$doc/copyright" "$src/packaging/debian/copyright" ||
  fail "$doc/copyright differs from packaging/debian/copyright"
zcat "$doc/changelog.gz" | head -1 | grep -q "^featurescope ($version) " ||
  fail "the changelog's latest entry is not $version: $(zcat "$doc/changelog.gz" | head -1)"
for prog in featurescope featurescope-cli; do
  page=$root/usr/share/man/man1/$prog.1.gz
  for section in NAME SYNOPSIS DESCRIPTION; do
    zcat "$page" | grep -q "^\.SH $section" || fail "$page has no $section section"
  done
done
# Every command of featurescope-cli --help has its own subsection in the CLI's page.
for cmd in $("$cli" --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}'); do
  zcat "$root/usr/share/man/man1/featurescope-cli.1.gz" | grep -qx "\.SS $cmd" ||
    fail "featurescope-cli.1 lacks the command $cmd"
done
echo "copyright identical to the source tree's, changelog at $version, man pages complete"

step "lintian"
# Errors and warnings fail; informational tags are listed (README, "Install as a Debian package").
lintian --fail-on error,warning --display-info --tag-display-limit 0 "$deb" ||
  fail "lintian reported errors or warnings on $(basename "$deb")"

echo "package_deb: OK ($(basename "$deb"))"
