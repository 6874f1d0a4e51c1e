// Gradient-weighted attention rollout. Chefer, Gur & Wolf 2021, "Generic Attention-model
// Explainability for Interpreting Bi-Modal and Encoder-Decoder Transformers" (ICCV), eq. 5-6, and
// the authors' ViT code (github.com/hila-chefer/Transformer-MM-Explainability: avg_heads,
// apply_self_attention_rules, generate_relevance): every block's attention probabilities A and
// their gradient ∇A = d logit[target] / dA from one forward and one backward, Ā = E_h[(∇A ⊙ A)^+],
// R = R + Ā R from R = I in block order; the map is the class token's row of R over the patch
// tokens (attention_rollout.h). The identity's own entry at the class token is not part of the
// patch columns, so the map is the relevance the blocks add.
// Models: those with attention units (ViT, DeiT); others get an InputError naming the model.
// DeiT distilled: the logit is the mean of the class-token and distillation-token heads, so ∇A
// carries both; the map is the class token's row (token 0), as in the paper, and the
// distillation token's column is dropped with the prefix.
// Map [h,w] at the patch grid (like a CAM at its tap), non-negative, shown like a CAM.
#include "analysis/saliency/attention_rollout.h"

#include "analysis/saliency/saliency_base.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

namespace fs::analysis {
namespace {

class GradientAttentionRollout : public SaliencyBase {
 public:
  std::string name() const override { return "gradient_rollout"; }
  std::string title() const override { return "Gradient-weighted attention rollout"; }
  bool usesTap() const override { return false; }
  bool gradientFree() const override { return false; }
  // Sums of products of non-negative matrices: non-negative, shown like a CAM.
  MapConvention convention() const override { return {ChannelReduction::SignedSum, SignMode::Relu, 100.0, Colormap::Turbo}; }

 protected:
  at::Tensor run(SaliencyContext& ctx) override {
    const std::vector<std::string> units = requireAttentionUnits(ctx.model, name());
    // The input joins the graph so that the attention has a gradient whatever the weights' flags.
    const at::Tensor x = ctx.input.detach().requires_grad_(true);
    const fs::model::ForwardResult r = ctx.model.net->forward(x, units);
    const int t = ctx.resolveTarget(r.logits);
    std::vector<at::Tensor> attentions;
    for (const std::string& u : units) attentions.push_back(r.attention.at(u));
    const std::vector<at::Tensor> grads = torch::autograd::grad({r.logits.select(1, t).sum()}, attentions);
    std::vector<at::Tensor> a, g;
    for (size_t l = 0; l < units.size(); ++l) a.push_back(attentions[l][0].detach()), g.push_back(grads[l][0]);
    return classTokenMap(ctx.model, gradientAttentionRollout(a, g));
  }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeGradientAttentionRollout() { return std::make_unique<GradientAttentionRollout>(); }

}  // namespace fs::analysis
