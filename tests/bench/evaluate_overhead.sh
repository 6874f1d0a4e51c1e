#!/usr/bin/env bash
# The scorecard's overhead beyond the model evaluations it must make (issue goal: under 30%), per
# demo model: ROUNDS rounds, the models interleaved, each round a fresh `featurescope-cli evaluate`
# that measures the model's own throughput in the same run (evaluate --help). Prints per model the
# median and range over the rounds of seconds per image, the model alone, the overhead, ROAD and
# max-sensitivity.
# usage: tests/bench/evaluate_overhead.sh [BUILD_DIR] [IMAGES] [ROUNDS] [MODELS...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
images=${2:-16}
rounds=${3:-3}
shift $(($# < 3 ? $# : 3))
models=${*:-convmlp_fmnist puremlp_fmnist resnet_fmnist mixer_fmnist resmlp_fmnist}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
metrics=deletion,insertion,drop,road_morf,road_lerf,infidelity,max_sensitivity,pointing_game
metrics=$metrics,energy_pointing_game,relevance_mass,relevance_rank,topk_iou,gini,entropy
for ((r = 1; r <= rounds; r++)); do
  for m in $models; do
    "$build/app/featurescope-cli" evaluate "$m" --dataset fashion-mnist --limit "$images" \
      --methods gradcam,layercam,gradient,integrated_gradients,occlusion --steps 32 --metrics "$metrics" \
      --out "$out/$m-$r.json" 2>"$out/$m-$r.log" >/dev/null
  done
done
/usr/bin/python3 - "$out" "$rounds" $models <<'PY'
import json, statistics, sys
out, rounds, models = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
print("model | s / image | the model alone | overhead | ROAD (MoRF + LeRF) | max-sensitivity   (median [min-max] of %d rounds)" % rounds)
for m in models:
    rows = []
    for r in range(1, rounds + 1):
        s = json.load(open("%s/%s-%d.speed.json" % (out, m, r)))
        n, steps = s["images_scored"], s["seconds_by_step"]
        rows.append((s["seconds"] / n, s["model_seconds"] / n, 100 * s["overhead"],
                     (steps.get("road_morf", 0) + steps.get("road_lerf", 0)) / n, steps.get("max_sensitivity", 0) / n))
    cols = list(zip(*rows))
    fmt = lambda c, f: ("%" + f + " [%" + f + "-%" + f + "]") % (statistics.median(c), min(c), max(c))
    print(" | ".join([m, fmt(cols[0], ".2f"), fmt(cols[1], ".2f"), fmt(cols[2], ".0f") + "%", fmt(cols[3], ".2f"),
                      fmt(cols[4], ".2f")]))
PY
