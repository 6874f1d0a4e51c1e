#pragma once
// Effective receptive field (Luo, Li, Urtasun & Zemel 2016, "Understanding the Effective Receptive
// Field in Deep Convolutional Neural Networks", Sec. 4): back-propagate a gradient of 1 at the
// centre position of a tap's map (every channel, i.e. the centre activation summed over channels)
// and 0 elsewhere, take the absolute gradient at the input, sum it over the colour channels and
// average it over N images. Summarised by the radii (in input pixels, around the centre cell's
// input position) of the smallest discs holding 50% and 90% of the map's mass, and compared with
// the theoretical receptive field (analysis/features/receptive_field.h).
#include "analysis/features/image_source.h"
#include "analysis/features/receptive_field.h"
#include "analysis/figure_layout.h"
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

namespace fs::analysis {

struct ErfMap {
  std::string tap;
  ReceptiveField rf;
  int cellY = 0, cellX = 0;          // the centre cell: (h / 2, w / 2) of the tap's map
  double centreY = 0, centreX = 0;   // its field's centre in input pixels
  at::Tensor map;                    // float32 [H, W]: mean over images of sum_c |d centre / d input|
  double radius50 = 0, radius90 = 0; // input pixels
  int64_t images = 0;
};

// The smallest distance r from (cy, cx) such that the pixels at distance <= r hold at least
// `fraction` of the map's total (pixels taken in order of distance); 0 for an all-zero map.
double massRadius(const at::Tensor& map, double cy, double cx, double fraction);

// One forward and one backward per tap for each batch of `batchSize` images of `source`.
// `progress(done, total)` after each batch; it returns false to cancel (InputError "cancelled").
std::vector<ErfMap> effectiveReceptiveFields(LoadedModel& model, const std::vector<std::string>& taps,
                                             const ImageSource& source, int batchSize,
                                             const std::function<bool(int64_t, int64_t)>& progress = {});

// Rows = models, columns = each model's taps (Stage 1..n); each cell the map scaled to its maximum
// (inferno), the theoretical field's square in white and the 50% / 90% discs in cyan.
FigureLayout erfFigure(const std::vector<std::string>& modelNames, const std::vector<std::vector<ErfMap>>& maps,
                       const std::string& sourceDescription);

}  // namespace fs::analysis
