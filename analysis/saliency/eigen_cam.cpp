// Eigen-CAM. Muhammad & Yeasin 2020, "Eigen-CAM: Class Activation Map using Principal
// Components", Sec. 3: the activations as a matrix [HW, C], centred per channel, projected on the
// first right singular vector V_1: map = (A - mean) V_1. Gradient-free and class-agnostic. An
// SVD's sign is arbitrary: it is chosen so that the map correlates positively with the channel
// mean of the activations (pytorch-grad-cam's get_2d_projection, with a deterministic sign).
#include "analysis/saliency/saliency_base.h"

#include <ATen/ATen.h>

namespace fs::analysis {
namespace {

class EigenCam : public SaliencyBase {
 public:
  std::string name() const override { return "eigencam"; }
  std::string title() const override { return "Eigen-CAM"; }
  bool usesTap() const override { return true; }
  bool gradientFree() const override { return true; }

 protected:
  at::Tensor run(SaliencyContext& ctx) override {
    const at::Tensor a = tapActivations(ctx);
    const int64_t c = a.size(0), h = a.size(1), w = a.size(2);
    const at::Tensor x = a.reshape({c, h * w}).t().to(at::kDouble);
    const at::Tensor centred = x - x.mean(0, /*keepdim=*/true);
    const at::Tensor vh = std::get<2>(at::linalg_svd(centred, /*full_matrices=*/false));
    at::Tensor map = centred.matmul(vh[0]);
    const at::Tensor meanAct = x.mean(1);
    const double corr = ((map - map.mean()) * (meanAct - meanAct.mean())).sum().item<double>();
    if (corr < 0) map = -map;
    return map.reshape({h, w}).to(at::kFloat);
  }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeEigenCam() { return std::make_unique<EigenCam>(); }

}  // namespace fs::analysis
