// HiResCAM. Draelos & Carin 2020, "Use HiResCAM instead of Grad-CAM for faithful explanations of
// convolutional neural networks", Sec. 3 (HiResCAM definition): the element-wise product of
// gradients and activations summed over channels, map = sum_c G_c * A_c (no gradient averaging).
#include "analysis/saliency/gradient_cam.h"

#include <ATen/ATen.h>

namespace fs::analysis {
namespace {

class HiResCam : public GradientCam {
 public:
  std::string name() const override { return "hirescam"; }
  std::string title() const override { return "HiRes-CAM"; }

 protected:
  at::Tensor cam(const at::Tensor& a, const at::Tensor& g) const override { return (g * a).sum(0); }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeHiResCam() { return std::make_unique<HiResCam>(); }

}  // namespace fs::analysis
