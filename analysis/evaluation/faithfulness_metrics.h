#pragma once
// Faithfulness metrics as registered metrics (metric.h): deletion and insertion (RISE, in
// analysis/faithfulness.h, with its default substrates) and ROAD.
//
// [road_morf, road_lerf] Rong et al. 2022, "A Consistent and Efficient Evaluation Strategy for
// Attribution Methods" (ROAD), ICML, sec. 4: remove the p% most relevant (MoRF) or least relevant
// (LeRF) pixels, p = 10, 20, ..., 90, replace them by noisy linear imputation, and read the model's
// softmax probability of the target; the metric is the mean over the nine fractions (MoRF: lower is
// more faithful, LeRF: higher). Noisy linear imputation, as in the authors' code
// (NoisyLinearImputer): every removed pixel equals the weighted mean of its in-image 8 neighbours
// (1/6 for the direct, 1/12 for the diagonal ones), the known pixels fixed, solved as one sparse
// linear system per channel (here by a sparse Cholesky factorisation in nested-dissection order,
// one for all channels, analysis/evaluation/imputation_solver.h; conjugate gradients for images too
// large for its memory; channels that are affine images of the first, as a grey image normalised
// per channel, take that image of its imputation, exact to 1e-6), then N(0, noise^2) added to the imputed values (noise 0.01, in the model's normalised
// input space, as the authors impute the normalised tensor). Ranking ties fall in raster order.
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace fs::analysis {

// image float [C,H,W] or [1,C,H,W], removed bool [H,W] -> the image with the removed pixels
// imputed, same shape. noise 0: the exact linear imputation. InputError when every pixel is removed.
at::Tensor noisyLinearImputation(const at::Tensor& image, const at::Tensor& removed, double noise, uint64_t seed);

struct RoadOptions {
  std::vector<int> percentages{10, 20, 30, 40, 50, 60, 70, 80, 90};
  double noise = 0.01;
  uint64_t seed = 0;
  int batchSize = 0;  // 0: all percentages in one batch
};
struct RoadCurve {
  std::vector<int> percentages;
  std::vector<double> probs;  // target probability after removing each percentage
  double score = 0.0;         // their mean
};
// morf = true: most relevant first. input [1,3,H,W], map any supported shape (mapToSize).
RoadCurve roadCurve(LoadedModel& model, const at::Tensor& input, const at::Tensor& map, int target, bool morf,
                    const RoadOptions& options = {});

}  // namespace fs::analysis
