// GradientCam helpers shared by the gradient-weighted CAM methods (gradient_cam.h).
#include "analysis/saliency/gradient_cam.h"

#include <ATen/ATen.h>

#include <cstdio>

namespace fs::analysis {

std::string GradientCam::negativeActivationCaveat(const char* who, const std::string& tap, const at::Tensor& a) {
  const double negative = (a < 0).to(at::kDouble).mean().item<double>();
  if (negative == 0.0) return "";
  char share[32];
  std::snprintf(share, sizeof share, "%.0f%%", 100.0 * negative);
  return std::string(who) + " assumes non-negative activations (post-ReLU maps); tap " + tap + " has " + share +
         " negative values, so its channel weights lose the meaning the paper gives them (Grad-CAM and "
         "HiResCAM make no such assumption)";
}

}  // namespace fs::analysis
