#!/usr/bin/env bash
# Grad-CAM on resnet50 at 224 (one forward with the layer4 tap + one backward), median of REPEAT:
# featurescope-cli against Python torch 1.13 (python3-torch, 1 and 2 threads; the same computation
# with frozen weights, and pytorch-grad-cam's full backward), interleaved.
# usage: tests/bench/gradcam_bench.sh [CLI] [REPEAT]
set -euo pipefail
# The same OpenMP wait policy for both sides (featurescope-cli picks PASSIVE when none is set).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
here=$(cd "$(dirname "$0")" && pwd)
cli=${1:-$here/../../build/app/featurescope-cli}
repeat=${2:-10}
image="$here/../../resources/samples/chelsea.png"
for round in 1 2; do
  for t in 1 2; do
    for recipe in frozen pytorch-grad-cam; do
      echo "python threads=$t: $(/usr/bin/python3 "$here/gradcam_torch.py" "$t" "$repeat" "$recipe")"
    done
  done
  for t in 1 2; do
    ms=$("$cli" saliency resnet50 --image "$image" --method gradcam --tap layer4 --repeat "$repeat" --threads "$t" --json |
      /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["elapsed_ms"])')
    echo "featurescope threads=$t: {\"median_ms\": $ms}"
  done
done
