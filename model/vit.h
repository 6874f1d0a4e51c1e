#pragma once
// Vision Transformer (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words") and DeiT
// (Touvron et al. 2021, "Training data-efficient image transformers & distillation through
// attention"), with timm's module and key names (MODELS.md, "ViT ... and DeiT"). Tokens [B,T,D]
// inside with the prefix tokens (class; class and distillation for distilled DeiT) in front; the
// taps are the patch tokens as [B,D,h,w], the prefix tokens and every block's attention
// probabilities are handed back beside them (ForwardResult).
#include "model/attention.h"
#include "model/classifier.h"
#include "model/layers.h"
#include "model/model_config.h"

#include <torch/nn/modules/normalization.h>

namespace fs::model {

// Pre-norm block: x = x + attn(norm1(x)); x = x + mlp(norm2(x)).
class VitBlockImpl : public torch::nn::Module {
 public:
  VitBlockImpl(int64_t dim, int64_t heads, int64_t hidden, bool qkvBias, double eps);
  // `name` is the block's tap name: its attention input is the tap name.norm1 and its attention
  // probabilities the unit name.attn. x is handed over (the inference path sums into it).
  at::Tensor forward(at::Tensor x, TapSink& sink, const std::string& name, int64_t prefix, int64_t grid);
  void pack(bool on);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};
};
TORCH_MODULE(VitBlock);

class VisionTransformerImpl : public ClassifierImpl {
 public:
  explicit VisionTransformerImpl(const ModelConfig& config);
  std::vector<TapInfo> taps() const override;
  std::vector<std::string> stages() const override;  // the last block of each depth quarter
  std::string camTap() const override;               // blocks.<last>.norm1
  std::vector<std::string> attentionUnits() const override;
  std::vector<std::string> prefixTokens() const override;
  ForwardResult forward(const at::Tensor& x, const std::vector<std::string>& tapNames) override;
  LocalField localPrefix() const override;  // the patch embedding (stride = patch size)
  at::Tensor forwardPrefix(const at::Tensor& x, int64_t layoutBatch) override;
  at::Tensor logitsFromPrefix(const at::Tensor& prefix) override;
  void prepareForInference() override { pack(true); }
  void invalidateInferenceCache() override { pack(false); }

 private:
  void pack(bool on);
  at::Tensor afterPatchEmbed(const at::Tensor& patches, TapSink& sink);  // patches: [B,C,h,w]
  std::string blockName(size_t i) const { return "blocks." + std::to_string(i); }
  ModelConfig config_;
  int64_t grid_ = 0, prefix_ = 1;
  at::Tensor clsToken_, distToken_, posEmbed_;
  torch::nn::Conv2d proj_{nullptr};
  PackedConv projPacked_;
  std::vector<VitBlock> blocks_;
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear head_{nullptr}, headDist_{nullptr};
};

}  // namespace fs::model
