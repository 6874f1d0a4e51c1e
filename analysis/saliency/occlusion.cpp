// Occlusion. Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional Networks",
// Sec. 4.2: a window x window square (all channels) slides with `stride` and is replaced by the
// baseline 0; each window's score is the drop of the target logit, f(x) - f(x occluded), given to
// every pixel it covers and averaged over the windows that cover a pixel (Captum's convention).
// A last window is aligned with the right/bottom edge so every pixel is covered; a stride larger
// than the window is refused (it would leave pixels between windows without a score). Map [H,W].
// The windows' forwards are incremental where the model has a local prefix (occluded_forward.h:
// Nakandala et al. 2019), equal to full forwards up to float rounding.
#include "analysis/batch_budget.h"
#include "analysis/saliency/occluded_forward.h"
#include "analysis/saliency/saliency_base.h"
#include "model/errors.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <string>
#include <vector>

namespace fs::analysis {
namespace {

class Occlusion : public SaliencyBase {
 public:
  std::string name() const override { return "occlusion"; }
  std::string title() const override { return "Occlusion"; }
  std::vector<std::string> parameters() const override { return {"window", "stride"}; }
  bool usesTap() const override { return false; }
  bool gradientFree() const override { return true; }

 protected:
  at::Tensor run(SaliencyContext& ctx) override {
    const SaliencyOptions& o = ctx.options;
    if (o.window < 1 || o.stride < 1) throw fs::model::InputError("occlusion: window and stride must be at least 1");
    if (o.stride > o.window)
      throw fs::model::InputError("occlusion: stride " + std::to_string(o.stride) + " is larger than the window " +
                                  std::to_string(o.window) + ": pixels between windows would get no score");
    const at::Tensor x = ctx.input.to(at::kFloat).contiguous();
    const int64_t height = x.size(2), width = x.size(3);
    const std::vector<OcclusionWindow> windows = occlusionWindows(height, width, o.window, o.stride);
    const int64_t total = static_cast<int64_t>(windows.size());
    // The windows' forwards, incremental where the model allows (occluded_forward.h), in the
    // balanced batches forEachBatch() runs.
    const int64_t batch = balancedBatchFor(total, o.batchSize, false, ctx.model, height, width);
    OccludedForward forward(*ctx.model.net, x, windows, batch);
    const at::Tensor base = forward.reference();
    const double reference = base[0][ctx.resolveTarget(base)].item<double>();
    at::Tensor sum = at::zeros({height, width}, at::kDouble), count = at::zeros({height, width}, at::kDouble);
    // The drops are spread by plain loops over the buffers, not by ATen calls on narrowed views.
    const bool done = forEachBatch(ctx, total, false, [&](int64_t begin, int64_t end) {
      const at::Tensor drops =
          (reference - forward.logits(begin, end).select(1, ctx.target).to(at::kDouble)).contiguous();
      double *s = sum.data_ptr<double>(), *n = count.data_ptr<double>();
      const double* drop = drops.data_ptr<double>();  // drop[i - begin] for window i
      for (int64_t i = begin; i < end; ++i) {
        const OcclusionWindow& w = windows[size_t(i)];
        for (int64_t r = w.r0; r < w.r1; ++r)
          for (int64_t c = w.c0; c < w.c1; ++c) s[r * width + c] += drop[i - begin], n[r * width + c] += 1.0;
      }
    });
    if (!done) return {};
    return (sum / count.clamp_min(1.0)).to(at::kFloat);
  }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeOcclusion() { return std::make_unique<Occlusion>(); }

}  // namespace fs::analysis
