// XGrad-CAM. Fu et al. 2020, "Axiom-based Grad-CAM: Towards Accurate Visualization and
// Explanation of CNNs", Sec. 3 (the weight that best satisfies the sensitivity and conservation
// axioms): w_c = sum_hw (A_c(h,w) / sum_hw A_c) * G_c(h,w); map = sum_c w_c A_c.
#include "analysis/saliency/gradient_cam.h"

#include <ATen/ATen.h>

namespace fs::analysis {
namespace {

class XGradCam : public GradientCam {
 public:
  std::string name() const override { return "xgradcam"; }
  std::string title() const override { return "XGrad-CAM"; }
  const char* nonNegativeAssumption() const override { return "XGrad-CAM (Fu et al. 2020)"; }

 protected:
  at::Tensor cam(const at::Tensor& a, const at::Tensor& g) const override {
    constexpr double kEps = 1e-7;
    const at::Tensor sumA = a.sum({1, 2}, /*keepdim=*/true);
    const at::Tensor weights = (g * a / (sumA + kEps)).sum({1, 2}, /*keepdim=*/true);
    return (weights * a).sum(0);
  }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeXGradCam() { return std::make_unique<XGradCam>(); }

}  // namespace fs::analysis
