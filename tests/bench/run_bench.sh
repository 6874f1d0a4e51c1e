#!/usr/bin/env bash
# Benchmark featurescope-cli against Python torch 1.13 (python3-torch) in one run, interleaved.
# usage: tests/bench/run_bench.sh [BUILD_DIR] [REPEAT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
repeat=${2:-10}
models="convmlp_s resnet50 mixer_b16"
for round in 1 2; do
  for t in 1 2; do
    echo "python threads=$t: $(/usr/bin/python3 "$here/bench_torch.py" "$t" "$repeat")"
  done
  echo "featurescope: $("$build/app/featurescope-cli" bench $models --repeat "$repeat" --json | tr -d ' \n')"
done
