// Score-CAM. Wang et al. 2020, "Score-CAM: Score-Weighted Visual Explanations for Convolutional
// Neural Networks", Sec. 3: each channel A_k is upsampled to the input size and min-max
// normalised to a mask H_k in [0,1]; its weight is the target's softmax probability over the
// classes for the masked input X * H_k (the channel-wise Increase of Confidence without the
// constant baseline term, as the authors' code computes it); map = sum_k w_k A_k at the tap
// resolution. pytorch-grad-cam differs: it takes the target's raw logit per masked input and a
// softmax over the channels. Gradient-free; one forward per channel, batched.
#include "analysis/saliency/saliency_base.h"

#include <ATen/ATen.h>

namespace fs::analysis {
namespace {

// Channels [n,h,w] -> masks [n,1,H,W] in [0,1] (a constant channel gives an all-zero mask).
at::Tensor channelMasks(const at::Tensor& channels, int64_t height, int64_t width) {
  const at::Tensor up = at::upsample_bilinear2d(channels.unsqueeze(1), {height, width}, /*align_corners=*/false);
  const at::Tensor lo = up.amin({1, 2, 3}, /*keepdim=*/true);
  const at::Tensor span = up.amax({1, 2, 3}, /*keepdim=*/true) - lo;
  return at::where(span > 0, (up - lo) / span.clamp_min(1e-30), at::zeros_like(up));
}

class ScoreCam : public SaliencyBase {
 public:
  std::string name() const override { return "scorecam"; }
  std::string title() const override { return "Score-CAM"; }
  bool usesTap() const override { return true; }
  bool gradientFree() const override { return true; }

 protected:
  at::Tensor run(SaliencyContext& ctx) override {
    const at::Tensor a = tapActivations(ctx);
    const int64_t channels = a.size(0), height = ctx.input.size(2), width = ctx.input.size(3);
    at::Tensor weights = at::zeros({channels});
    const bool done = forEachBatch(ctx, channels, false, [&](int64_t begin, int64_t end) {
      const at::Tensor masked = ctx.input * channelMasks(a.slice(0, begin, end), height, width);
      const at::Tensor scores = at::softmax(logitsOf(ctx, masked), 1).select(1, ctx.target);
      weights.slice(0, begin, end).copy_(scores);
    });
    if (!done) return {};
    return (weights.view({channels, 1, 1}) * a).sum(0);
  }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeScoreCam() { return std::make_unique<ScoreCam>(); }

}  // namespace fs::analysis
