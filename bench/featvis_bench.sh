#!/bin/sh
# Issue 15's activation-maximisation goals on the demo models (every resources/models/*_fmnist
# model present): speed (visualize, 256 steps at 112x112, one last-stage channel, median of 3 runs
# of the wall and CPU seconds the command reports) and quality (visualize-bench: the fraction of
# last-stage channels whose optimised image reaches the channel's top exemplar over 1,000
# Fashion-MNIST test images). The machine's load average is printed beside each part.
#   bench/featvis_bench.sh [BUILD_DIR] [CHANNELS (per model; 0 = all; "speed": the speed part only)] [BATCH] [OUT_DIR]
set -eu
BUILD=${1:-build}
CHANNELS=${2:-0}
BATCH=${3:-1}
OUT=${4:-/tmp/featvis-bench}
CLI="$BUILD/app/featurescope-cli"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"
MODELS=$(ls "$ROOT"/resources/models/*_fmnist.safetensors | sed 's|.*/||; s|\.safetensors$||')

echo "== speed: visualize, 256 steps, 112x112, last stage channel 5, median of 3 ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
for m in $MODELS; do
  tap=$("$CLI" info "$m" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["stages"][-1])')
  for run in 1 2 3; do
    "$CLI" visualize "$m" --tap "$tap" --channel 5 --timings --out "$OUT/$m-speed.png" 2>/dev/null |
      sed -n 's/.*timings (s):.*total \([0-9.]*\) (CPU \([0-9.]*\)).*/\1 \2/p'
  done | sort -n | sed -n 2p | { read -r wall cpu; echo "$m $tap: median $wall s wall, $cpu s CPU (the median run's)"; }
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$CHANNELS" = speed ] && exit 0

echo "== quality: visualize-bench over 1,000 test images (channels per model: ${CHANNELS:-all}, batch $BATCH)"
# shellcheck disable=SC2086
"$CLI" visualize-bench $MODELS --limit 1000 --channels "$CHANNELS" --batch "$BATCH" --json "$OUT/quality.json"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
