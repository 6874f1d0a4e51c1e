#pragma once
// MLP-Mixer (Tolstikhin et al. 2021) with timm's module names, and ResMLP (Touvron et al. 2021),
// which shares the patch stem, token grid and head. Tokens [B,N,C] inside; taps as [B,C,h,w].
#include "model/classifier.h"
#include "model/layers.h"
#include "model/model_config.h"

#include <torch/nn/modules/normalization.h>

namespace fs::model {

class MixerBlockImpl : public torch::nn::Module {
 public:
  MixerBlockImpl(int64_t dim, int64_t tokens, int64_t tokenHidden, int64_t channelHidden, double eps);
  at::Tensor forward(at::Tensor x);  // x is handed over (the inference path may reuse it)
  void pack(bool on);  // the inference-only form of its MLPs
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Mlp mlp_tokens{nullptr}, mlp_channels{nullptr};
};
TORCH_MODULE(MixerBlock);

class ResMlpBlockImpl : public torch::nn::Module {  // timm: ResBlock
 public:
  ResMlpBlockImpl(int64_t dim, int64_t tokens, int64_t channelHidden, double initValues);
  at::Tensor forward(const at::Tensor& x);
  void pack(bool on);  // the inference-only form of its token mixing and MLP
  Affine norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear linear_tokens{nullptr};
  Mlp mlp_channels{nullptr};
  at::Tensor ls1, ls2;

 private:
  PackedTokenMix tokensPacked_;
};
TORCH_MODULE(ResMlpBlock);

// One class for both token models: the block type and final norm follow config.family.
class MlpMixerImpl : public ClassifierImpl {
 public:
  explicit MlpMixerImpl(const ModelConfig& config);
  std::vector<TapInfo> taps() const override;
  std::vector<std::string> stages() const override;
  std::string camTap() const override;  // blocks.<numBlocks-1>
  ForwardResult forward(const at::Tensor& x, const std::vector<std::string>& tapNames) override;
  LocalField localPrefix() const override;  // the patch embedding (stride = patch size)
  at::Tensor forwardPrefix(const at::Tensor& x, int64_t layoutBatch) override;
  at::Tensor logitsFromPrefix(const at::Tensor& prefix) override;
  void prepareForInference() override { pack(true); }
  void invalidateInferenceCache() override { pack(false); }

 private:
  void pack(bool on);
  at::Tensor block(size_t i, at::Tensor x);
  at::Tensor afterStem(const at::Tensor& stem, TapSink& sink);  // stem: the patch embedding [B,C,h,w]
  ModelConfig config_;
  int64_t grid_ = 0;
  torch::nn::Conv2d proj_{nullptr};
  PackedConv projPacked_;
  std::vector<MixerBlock> mixerBlocks_;
  std::vector<ResMlpBlock> resBlocks_;
  torch::nn::LayerNorm layerNorm_{nullptr};
  Affine affineNorm_{nullptr};
  torch::nn::Linear head_{nullptr};
};

}  // namespace fs::model
