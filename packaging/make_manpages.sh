#!/usr/bin/env bash
# Writes the man pages of both programs, generated from their --help and --version with help2man,
# gzipped as Debian installs them. featurescope-cli's page also carries every command's own --help
# (section COMMANDS), so the page says exactly what the program says.
#
#   packaging/make_manpages.sh BIN_DIR OUT_DIR VERSION   (build target "manpages", packaging/Packaging.cmake)
set -euo pipefail

bin=${1:?usage: make_manpages.sh BIN_DIR OUT_DIR VERSION}
out=${2:?usage: make_manpages.sh BIN_DIR OUT_DIR VERSION}
version=${3:?usage: make_manpages.sh BIN_DIR OUT_DIR VERSION}
command -v help2man >/dev/null ||
  { echo "make_manpages: help2man is missing (apt-get install help2man; packaging/setup.sh installs it)" >&2; exit 1; }
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One [SECTION] per include file; help2man copies the roff text as it is.
roff_escape() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\&'/"; }

cli=$bin/featurescope-cli
{
  echo "[COMMANDS]"
  # The command names are the first words of the indented lines under "commands:" in --help.
  "$cli" --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}' |
    while read -r cmd; do
      echo ".SS $cmd"
      echo ".nf"
      "$cli" "$cmd" --help | roff_escape
      echo ".fi"
    done
  cat <<'ROFF'
[FILES]
.TP
.I /usr/share/featurescope
Bundled demo models (models/), sample images (samples/) and class labels (labels/).
.TP
.I ~/.cache/featurescope/matmul-calibration.json
The per-machine choice of matrix-multiplication backend (see the README, "The inference path").
[SEE ALSO]
.BR featurescope (1)
ROFF
} >"$work/cli.h2m"

cat >"$work/gui.h2m" <<'ROFF'
[FILES]
.TP
.I /usr/share/featurescope
Bundled demo models, sample images and class labels.
.TP
.I ~/.config/org.featurescope/FeatureScope.conf
The window's settings.
[SEE ALSO]
.BR featurescope-cli (1)
ROFF

gen() {  # program, name line, include file
  local prog=$1 name=$2 inc=$3 page wrapper
  page=$out/$(basename "$prog").1
  # help2man takes the synopsis from lines starting "Usage:"; the programs print "usage:". The
  # one-line command summaries of featurescope-cli --help would run together into one paragraph:
  # the page lists the command names there and each command's full help under COMMANDS.
  wrapper=$work/$(basename "$prog")
  cat >"$wrapper" <<WRAP
#!/bin/sh
set -e
"$prog" "\$@" | sed "s/^usage:/Usage:/" | awk '
  /^commands:/ { on = 1; n = 0; next }
  on && /^  [a-z]/ { names[++n] = \$1; next }
  on { on = 0; s = "Commands (see COMMANDS below):"; for (i = 1; i <= n; ++i) s = s " " names[i] (i < n ? "," : "."); print s; print "" }
  { print }'
WRAP
  chmod +x "$wrapper"
  help2man --no-info --section 1 --name "$name" --version-string "$version" --include "$inc" \
    --output "$page.tmp" "$wrapper" ||
    { echo "make_manpages: help2man failed on $prog" >&2; exit 1; }
  grep -q '^\.SH DESCRIPTION' "$page.tmp" || { echo "make_manpages: no DESCRIPTION in $page" >&2; exit 1; }
  gzip -9n <"$page.tmp" >"$page.gz.tmp"
  mv "$page.gz.tmp" "$page.gz"
  rm -f "$page.tmp"
}
gen "$cli" "feature maps, saliency maps and predictions of vision models" "$work/cli.h2m"
gen "$bin/featurescope" "compare the feature maps of vision models side by side" "$work/gui.h2m"
