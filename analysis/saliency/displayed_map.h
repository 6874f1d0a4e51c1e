#pragma once
// The map that the front ends display by default and that every metric ranks: a method's map2d
// (SaliencyResult) after the sign step of its convention (MapConvention::sign). For the CAM family
// that step is the ReLU that ends Grad-CAM's Eq. 2 (Selvaraju et al. 2017, "Grad-CAM", ICCV) and
// its variants; magnitude maps take |map|; signed maps (integrated gradients, occlusion, ...) are
// unchanged. The evaluation lab (analysis/scorecard.h), the Saliency view's deletion and insertion
// curves and the Evaluate view all rank this map, so a number always belongs to the picture shown.
#include "analysis/colormap.h"

#include <ATen/core/Tensor.h>

namespace fs::analysis {

at::Tensor displayedMap(const at::Tensor& map2d, SignMode sign);

}  // namespace fs::analysis
