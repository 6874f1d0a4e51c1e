#pragma once
// Why a CAM in a model with prefix tokens can be exactly zero. In ViT and DeiT (Dosovitskiy et
// al. 2021; Touvron et al. 2021) the head reads only the prefix tokens (class; class and
// distillation) after the final norm, and norm and the MLPs act per token, so after the last
// block's attention no gradient reaches a patch token: a CAM at blocks.<last> or norm is exactly
// zero (the reference fixtures hold those zeros). pytorch-grad-cam's documentation recommends the
// input of the last block's attention instead (blocks.<last>.norm1, these models' camTap()).
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <string>

namespace fs::analysis {

// The caveat for a CAM `map` [h,w] at `tap`: non-empty when the map is exactly zero everywhere and
// the model has prefix tokens (ClassifierImpl::prefixTokens()); names the tap and the model's CAM tap.
std::string prefixTokenZeroMapCaveat(const LoadedModel& model, const std::string& tap, const at::Tensor& map);

}  // namespace fs::analysis
