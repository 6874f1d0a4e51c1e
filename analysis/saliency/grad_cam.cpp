// Grad-CAM. Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via
// Gradient-based Localization", Eq. 1: alpha_c = 1/Z sum_hw dy/dA_c(h,w) (global-average-pooled
// gradients); Eq. 2: L = sum_c alpha_c A_c. The ReLU of Eq. 2 is a display step here.
#include "analysis/saliency/gradient_cam.h"

#include <ATen/ATen.h>

namespace fs::analysis {
namespace {

class GradCam : public GradientCam {
 public:
  std::string name() const override { return "gradcam"; }
  std::string title() const override { return "Grad-CAM"; }

 protected:
  at::Tensor cam(const at::Tensor& a, const at::Tensor& g) const override {
    const at::Tensor weights = g.mean({1, 2}, /*keepdim=*/true);
    return (weights * a).sum(0);
  }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeGradCam() { return std::make_unique<GradCam>(); }

}  // namespace fs::analysis
