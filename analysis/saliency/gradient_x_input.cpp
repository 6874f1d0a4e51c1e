// Gradient x input. Shrikumar et al. 2016, "Not Just a Black Box: Learning Important Features
// Through Propagating Activation Differences" (the gradient * input baseline of Sec. 2; Ancona et
// al. 2018 show it equals epsilon-LRP for ReLU networks): attribution = x * dS_c/dx, [1,3,H,W].
#include "analysis/saliency/saliency_base.h"

#include <ATen/ATen.h>

namespace fs::analysis {
namespace {

class GradientXInput : public SaliencyBase {
 public:
  std::string name() const override { return "gradxinput"; }
  std::string title() const override { return "Gradient \u00d7 input"; }
  bool usesTap() const override { return false; }
  bool gradientFree() const override { return false; }
  PassUse passUse() const override { return PassUse::Input; }
  at::Tensor mapFromPass(const GradientPass& pass, int64_t sample) const override {
    requirePass(pass, sample, PassUse::Input, name());
    return map2dOf(pass.inputGradients.narrow(0, sample, 1) * pass.inputs.narrow(0, sample, 1));
  }

 protected:
  at::Tensor run(SaliencyContext& ctx) override { return inputGradient(ctx, ctx.input) * ctx.input; }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeGradientXInput() { return std::make_unique<GradientXInput>(); }

}  // namespace fs::analysis
