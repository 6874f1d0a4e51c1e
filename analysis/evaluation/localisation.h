#pragma once
// Localisation metrics: how a map's evidence falls on a ground-truth object mask. All take the
// map as float [H,W] (the displayed map at the input size) and the mask as bool [H,W] of the same
// size; InputError for a size mismatch or an empty mask. Registered as metrics (metric.h) under
// the names in brackets.
#include <ATen/core/Tensor.h>

namespace fs::analysis {

// [pointing_game] Zhang et al. 2018, "Top-down Neural Attention by Excitation Backprop", IJCV,
// sec. 5.1: a hit (1) when the map's maximum point lies within `tolerance` pixels (Euclidean) of
// the object, a miss (0) otherwise; the paper uses 15 px. The maximum point is the first maximum
// in raster order.
double pointingGame(const at::Tensor& map, const at::Tensor& mask, double tolerance = 15.0);

// [energy_pointing_game] Wang et al. 2020, "Score-CAM", CVPR workshops, sec. 5.2 (localisation
// evaluation): Proportion = sum of L inside the object's bounding box / sum of L over the image,
// with L the map's positive part (Score-CAM maps are non-negative). The box is the mask's bounding
// box. 0 when the map has no positive value.
double energyPointingGame(const at::Tensor& map, const at::Tensor& mask);

// [relevance_mass] Arras et al. 2022, "CLEVR-XAI", Information Fusion 81, eq. for relevance mass
// accuracy: R_within / R_total, the positive relevance inside the mask over all positive relevance
// (the paper evaluates positive relevance only). 0 when the map has no positive value.
double relevanceMass(const at::Tensor& map, const at::Tensor& mask);

// [relevance_rank] Arras et al. 2022, relevance rank accuracy: with K = |mask|, the fraction of the
// K highest-ranked pixels (ties in raster order) that lie inside the mask, |P_top-K ∩ GT| / |GT|.
double relevanceRankAccuracy(const at::Tensor& map, const at::Tensor& mask);

// [topk_iou] Intersection over union of the top `fraction` of the map's pixels (at least one; ties
// in raster order) with the mask, as in Quantus' TopKIntersection but as an IoU; default 20%.
double topKIou(const at::Tensor& map, const at::Tensor& mask, double fraction = 0.2);

}  // namespace fs::analysis
