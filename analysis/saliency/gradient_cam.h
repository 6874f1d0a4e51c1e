#pragma once
// The gradient-weighted CAM family: one forward with the tap, one backward from logit[target] to
// the tap, then a method-specific combination of activations A and gradients G, both [C,h,w].
#include "analysis/saliency/saliency_base.h"

namespace fs::analysis {

class GradientCam : public SaliencyBase {
 public:
  bool usesTap() const override { return true; }
  bool gradientFree() const override { return false; }
  PassUse passUse() const override { return PassUse::Tap; }
  at::Tensor mapFromPass(const GradientPass& pass, int64_t sample) const final {
    requirePass(pass, sample, PassUse::Tap, name());
    return map2dOf(cam(pass.activations[sample], pass.tapGradients[sample]));
  }

 protected:
  at::Tensor run(SaliencyContext& ctx) final {
    const TapGradient tg = tapGradient(ctx);
    if (const char* who = nonNegativeAssumption()) ctx.caveat = negativeActivationCaveat(who, ctx.tap, tg.activations);
    return cam(tg.activations, tg.gradient);
  }
  // A, G: [C,h,w] -> raw map [h,w] (signed, no ReLU).
  virtual at::Tensor cam(const at::Tensor& a, const at::Tensor& g) const = 0;
  // Methods whose derivation assumes A >= 0 (post-ReLU maps) name it here ("Grad-CAM++ (Chattopadhay
  // et al. 2018)"); on a tap with negative values their weights lose the meaning the paper gives them.
  virtual const char* nonNegativeAssumption() const { return nullptr; }

 private:
  // Empty when A >= 0; else what share of A is negative and what that means.
  static std::string negativeActivationCaveat(const char* who, const std::string& tap, const at::Tensor& a);
};

}  // namespace fs::analysis
