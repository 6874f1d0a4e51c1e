#pragma once
// The gradient-weighted CAM family: one forward with the tap, one backward from logit[target] to
// the tap, then a method-specific combination of activations A and gradients G, both [C,h,w].
#include "analysis/saliency/saliency_base.h"

namespace fs::analysis {

class GradientCam : public SaliencyBase {
 public:
  bool usesTap() const override { return true; }
  bool gradientFree() const override { return false; }

 protected:
  at::Tensor run(SaliencyContext& ctx) final {
    const TapGradient tg = tapGradient(ctx);
    return cam(tg.activations, tg.gradient);
  }
  // A, G: [C,h,w] -> raw map [h,w] (signed, no ReLU).
  virtual at::Tensor cam(const at::Tensor& a, const at::Tensor& g) const = 0;
};

}  // namespace fs::analysis
