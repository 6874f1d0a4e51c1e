// Grad-CAM++. Chattopadhay et al. 2018, "Grad-CAM++: Generalized Gradient-based Visual
// Explanations for Deep Convolutional Networks", Sec. 3: for an exponential score the higher
// derivatives are powers of the first, alpha = G^2 / (2 G^2 + sum_ab A_ab * G^3) (0 where G = 0);
// w_c = sum_hw alpha * relu(G); map = sum_c w_c A_c (the form pytorch-grad-cam implements).
#include "analysis/saliency/gradient_cam.h"

#include <ATen/ATen.h>

namespace fs::analysis {
namespace {

class GradCamPlusPlus : public GradientCam {
 public:
  std::string name() const override { return "gradcampp"; }
  std::string title() const override { return "Grad-CAM++"; }
  const char* nonNegativeAssumption() const override { return "Grad-CAM++ (Chattopadhay et al. 2018)"; }

 protected:
  at::Tensor cam(const at::Tensor& a, const at::Tensor& g) const override {
    constexpr double kEps = 1e-7;
    const at::Tensor g2 = g * g;
    const at::Tensor g3 = g2 * g;
    const at::Tensor sumA = a.sum({1, 2}, /*keepdim=*/true);
    at::Tensor alpha = g2 / (2 * g2 + sumA * g3 + kEps);
    alpha = at::where(g != 0, alpha, at::zeros_like(alpha));
    const at::Tensor weights = (alpha * at::relu(g)).sum({1, 2}, /*keepdim=*/true);
    return (weights * a).sum(0);
  }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeGradCamPlusPlus() { return std::make_unique<GradCamPlusPlus>(); }

}  // namespace fs::analysis
