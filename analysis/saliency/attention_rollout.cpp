// Attention rollout. Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers" (ACL),
// sec. 3, and the authors' code (github.com/samiraabnar/attention_flow): the attention of every
// block, averaged over heads, with the residual connection added as 0.5 A + 0.5 I and rows
// renormalised, multiplied from the first block to the last; the map is the class token's row
// over the patch tokens (attention_rollout.h). Gradient-free and class-agnostic: the target only
// names the prediction it is shown for. One forward, no autograd.
// Models: those with attention units (ViT, DeiT); others get an InputError naming the model.
// DeiT distilled: the class token's row (token 0), as both papers read it; the distillation
// token's column is dropped with the prefix and its own row (the second head's input) is not
// used, so the map shows what flows into the class-token head, one of the two heads averaged.
// Map [h,w] at the patch grid (like a CAM at its tap), non-negative, shown like a CAM.
#include "analysis/saliency/attention_rollout.h"

#include "analysis/saliency/saliency_base.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>


namespace fs::analysis {
using fs::model::InputError;

namespace {

void checkStack(const std::vector<at::Tensor>& attentions, const char* what) {
  if (attentions.empty()) throw InputError(std::string(what) + ": no attention blocks");
  const auto shape = attentions.front().sizes();
  for (const at::Tensor& a : attentions)
    if (a.dim() != 3 || a.size(1) != a.size(2) || a.sizes() != shape)
      throw InputError(std::string(what) + ": every block's attention must be [heads,T,T] of one shape, got " +
                       c10::str(a.sizes()) + " beside " + c10::str(shape));
}

}  // namespace

at::Tensor attentionRollout(const std::vector<at::Tensor>& attentions) {
  checkStack(attentions, "attention rollout");
  const int64_t t = attentions.front().size(1);
  const at::Tensor eye = at::eye(t, at::kDouble);
  at::Tensor r = eye;
  for (const at::Tensor& a : attentions) {
    at::Tensor fused = 0.5 * a.to(at::kDouble).mean(0) + 0.5 * eye;
    fused = fused / fused.sum(-1, /*keepdim=*/true);
    r = at::matmul(fused, r);
  }
  return r;
}

at::Tensor gradientAttentionRollout(const std::vector<at::Tensor>& attentions, const std::vector<at::Tensor>& gradients) {
  checkStack(attentions, "gradient-weighted attention rollout");
  if (gradients.size() != attentions.size())
    throw InputError("gradient-weighted attention rollout: " + std::to_string(gradients.size()) + " gradients for " +
                     std::to_string(attentions.size()) + " attention blocks");
  const int64_t t = attentions.front().size(1);
  at::Tensor r = at::eye(t, at::kDouble);
  for (size_t l = 0; l < attentions.size(); ++l) {
    if (gradients[l].sizes() != attentions[l].sizes())
      throw InputError("gradient-weighted attention rollout: gradient " + c10::str(gradients[l].sizes()) +
                       " for attention " + c10::str(attentions[l].sizes()));
    const at::Tensor weighted = (gradients[l].to(at::kDouble) * attentions[l].to(at::kDouble)).clamp_min(0).mean(0);
    r = r + at::matmul(weighted, r);
  }
  return r;
}

at::Tensor tokenRowMap(const at::Tensor& rollout, int64_t row, int64_t prefix, int64_t h, int64_t w) {
  if (rollout.dim() != 2 || rollout.size(1) - prefix != h * w || row < 0 || row >= rollout.size(0))
    throw InputError("attention map: " + c10::str(rollout.sizes()) + " has no row " + std::to_string(row) +
                     " over " + std::to_string(prefix) + " prefix + " + std::to_string(h) + "x" + std::to_string(w) +
                     " patch tokens");
  return rollout[row].narrow(0, prefix, h * w).reshape({h, w}).to(at::kFloat).contiguous();
}

bool needsAttentionUnits(const std::string& method) {
  return method == "attention_rollout" || method == "gradient_rollout";
}

std::vector<std::string> requireAttentionUnits(const LoadedModel& model, const std::string& method) {
  std::vector<std::string> units = model.net->attentionUnits();
  if (units.empty())
    throw InputError(method + ": model '" + model.config.id + "' (family " + model.config.family +
                     ") has no attention probabilities over a class token; it applies to ViT and DeiT");
  return units;
}

at::Tensor classTokenMap(const LoadedModel& model, const at::Tensor& rollout) {
  const auto taps = model.net->taps();
  if (taps.empty()) throw InputError("model '" + model.config.id + "' has no taps");
  const int64_t prefix = static_cast<int64_t>(model.net->prefixTokens().size());
  return tokenRowMap(rollout, 0, prefix, taps.front().height, taps.front().width);
}

namespace {

class AttentionRollout : public SaliencyBase {
 public:
  std::string name() const override { return "attention_rollout"; }
  std::string title() const override { return "Attention rollout"; }
  bool usesTap() const override { return false; }
  bool gradientFree() const override { return true; }
  // Products of row-stochastic matrices: non-negative, shown like a CAM.
  MapConvention convention() const override { return {ChannelReduction::SignedSum, SignMode::Relu, 100.0, Colormap::Turbo}; }

 protected:
  at::Tensor run(SaliencyContext& ctx) override {
    const std::vector<std::string> units = requireAttentionUnits(ctx.model, name());
    c10::NoGradGuard noGrad;
    const fs::model::ForwardResult r = ctx.model.net->forward(ctx.input, units);
    ctx.resolveTarget(r.logits);
    std::vector<at::Tensor> attentions;
    for (const std::string& u : units) attentions.push_back(r.attention.at(u)[0]);
    return classTokenMap(ctx.model, attentionRollout(attentions));
  }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeAttentionRollout() { return std::make_unique<AttentionRollout>(); }

}  // namespace fs::analysis
