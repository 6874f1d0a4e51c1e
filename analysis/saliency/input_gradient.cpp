// Vanilla gradient ("gradient"). Simonyan, Vedaldi & Zisserman 2014, "Deep Inside Convolutional
// Networks: Visualising Image Classification Models and Saliency Maps", Sec. 3.1: the image-specific
// saliency w = dS_c / dI at the input I, here the raw signed [1,3,H,W] derivative of the logit.
#include "analysis/saliency/saliency_base.h"

namespace fs::analysis {
namespace {

class InputGradient : public SaliencyBase {
 public:
  std::string name() const override { return "gradient"; }
  std::string title() const override { return "Input gradient"; }
  // A magnitude map: max over colour channels of |g| (Simonyan et al. 2014, sec. 3.1).
  MapConvention convention() const override {
    MapConvention c;
    c.reduction = ChannelReduction::MaxAbs, c.sign = SignMode::Absolute, c.clipPercentile = 99.0;
    return c;
  }
  bool usesTap() const override { return false; }
  bool gradientFree() const override { return false; }
  PassUse passUse() const override { return PassUse::Input; }
  at::Tensor mapFromPass(const GradientPass& pass, int64_t sample) const override {
    requirePass(pass, sample, PassUse::Input, name());
    return map2dOf(pass.inputGradients.narrow(0, sample, 1));
  }

 protected:
  at::Tensor run(SaliencyContext& ctx) override { return inputGradient(ctx, ctx.input); }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeInputGradient() { return std::make_unique<InputGradient>(); }

}  // namespace fs::analysis
