// LayerCAM. Jiang et al. 2021, "LayerCAM: Exploring Hierarchical Class Activation Maps for
// Localization", Sec. III: a per-location weight w = relu(G(h,w)), map = sum_c w_c(h,w) A_c(h,w).
#include "analysis/saliency/gradient_cam.h"

#include <ATen/ATen.h>

namespace fs::analysis {
namespace {

class LayerCam : public GradientCam {
 public:
  std::string name() const override { return "layercam"; }
  std::string title() const override { return "Layer-CAM"; }

 protected:
  at::Tensor cam(const at::Tensor& a, const at::Tensor& g) const override { return (at::relu(g) * a).sum(0); }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeLayerCam() { return std::make_unique<LayerCam>(); }

}  // namespace fs::analysis
