#!/usr/bin/env bash
# Retrains the bundled Fashion-MNIST demo models into resources/models/ (not part of CI: each
# model takes minutes to tens of minutes on 2 cores). usage: packaging/train_demo_models.sh CLI [EPOCHS] [IDS...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cli=${1:?path to featurescope-cli}
epochs=${2:-3}
shift 2 || true
ids=("$@")
((${#ids[@]})) || ids=(convmlp_fmnist resnet_fmnist mixer_fmnist resmlp_fmnist puremlp_fmnist)
for id in "${ids[@]}"; do
  "$cli" train "$id" --dataset fashion-mnist --epochs "$epochs" --seed 0 --out "$root/resources/models/$id.safetensors"
done
