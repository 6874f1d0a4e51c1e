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
  at::Tensor forward(const at::Tensor& x);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Mlp mlp_tokens{nullptr}, mlp_channels{nullptr};
};
TORCH_MODULE(MixerBlock);

class ResMlpBlockImpl : public torch::nn::Module {  // timm: ResBlock
 public:
  ResMlpBlockImpl(int64_t dim, int64_t tokens, int64_t channelHidden, double initValues);
  at::Tensor forward(const at::Tensor& x);
  Affine norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear linear_tokens{nullptr};
  Mlp mlp_channels{nullptr};
  at::Tensor ls1, ls2;
};
TORCH_MODULE(ResMlpBlock);

// One class for both token models: the block type and final norm follow config.family.
class MlpMixerImpl : public ClassifierImpl {
 public:
  explicit MlpMixerImpl(const ModelConfig& config);
  std::vector<TapInfo> taps() const override;
  std::vector<std::string> stages() const override;
  ForwardResult forward(const at::Tensor& x, const std::vector<std::string>& tapNames) override;
  void prepareForInference() override { packConv(projPacked_, proj_, true); }
  void invalidateInferenceCache() override { packConv(projPacked_, proj_, false); }

 private:
  at::Tensor block(size_t i, const at::Tensor& x);
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
