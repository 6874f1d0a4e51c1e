#!/usr/bin/env bash
# Retrains the bundled Fashion-MNIST demo models into resources/models/ with the settings they
# shipped with (not part of CI: each takes 12-30 minutes on 2 cores).
# usage: packaging/train_demo_models.sh CLI [IDS...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cli=${1:?path to featurescope-cli}
shift
# id -> "epochs lr": the token models need more epochs to pass the demo's 87% floor.
declare -A settings=(
  [convmlp_fmnist]="3 2e-3"
  [resnet_fmnist]="3 2e-3"
  [puremlp_fmnist]="3 2e-3"
  [mixer_fmnist]="4 2e-3"
  [resmlp_fmnist]="6 3e-3"
  [vit_fmnist]="8 2e-3"
  [convnext_fmnist]="3 2e-3"
)
ids=("$@")
((${#ids[@]})) || ids=(convmlp_fmnist resnet_fmnist puremlp_fmnist mixer_fmnist resmlp_fmnist vit_fmnist convnext_fmnist)
for id in "${ids[@]}"; do
  [ -n "${settings[$id]:-}" ] || { echo "unknown demo model '$id'" >&2; exit 2; }
  read -r epochs lr <<<"${settings[$id]}"
  "$cli" train "$id" --dataset fashion-mnist --epochs "$epochs" --lr "$lr" --seed 0 \
    --out "$root/resources/models/$id.safetensors"
done
