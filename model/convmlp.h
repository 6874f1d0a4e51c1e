#pragma once
// ConvMLP (Li et al. 2021, "ConvMLP: Hierarchical Convolutional MLPs for Vision") and its Pure-MLP
// ablation (no depthwise `connect` conv). NCHW through tokenizer and conv stage, NHWC afterwards.
#include "model/classifier.h"
#include "model/layers.h"
#include "model/model_config.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/normalization.h>

namespace fs::model {

class ConvMlpBlockImpl : public torch::nn::Module {  // official name: ConvMLPStage
 public:
  ConvMlpBlockImpl(int64_t dim, int64_t hidden, bool withConnect);
  at::Tensor forward(at::Tensor x);  // NHWC, handed over (the inference path may reuse it)
  void pack(bool on);  // the inference-only form of its MLPs and conv
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, connect_norm{nullptr};
  Mlp channel_mlp1{nullptr}, channel_mlp2{nullptr};
  torch::nn::Conv2d connect{nullptr};

 private:
  PackedConv connectPacked_;
};
TORCH_MODULE(ConvMlpBlock);

class ConvMlpImpl : public ClassifierImpl {
 public:
  explicit ConvMlpImpl(const ModelConfig& config);
  std::vector<TapInfo> taps() const override;
  std::vector<std::string> stages() const override;
  ForwardResult forward(const at::Tensor& x, const std::vector<std::string>& tapNames) override;
  void prepareForInference() override;
  void invalidateInferenceCache() override;
  LocalField localPrefix() const override;
  at::Tensor forwardPrefix(const at::Tensor& x, int64_t layoutBatch) override;
  at::Tensor logitsFromPrefix(const at::Tensor& prefix) override;

 private:
  void buildTokenizer();
  void buildConvStage();
  void buildMlpStages();
  bool blockedPrefix(int64_t batch) const;                         // the layout of a batch's local units
  at::Tensor localUnits(at::Tensor x, TapSink& sink, bool blocked);  // tokenizer and conv blocks
  at::Tensor afterLocalUnits(at::Tensor x, TapSink& sink);          // the rest, to the logits
  void packPlainConvs(bool on);
  ModelConfig config_;
  std::vector<ConvBn> tokenizerConvs_;                 // tokenizer.block.{0,3,6} + BN
  std::vector<std::vector<ConvBn>> convBlockConvs_;    // conv_stages.conv_blocks.i.{0,3,6} + BN
  torch::nn::Conv2d convDownsample_{nullptr};
  PackedConv convDownsamplePacked_;
  std::vector<std::vector<ConvMlpBlock>> blocks_;
  std::vector<torch::nn::Conv2d> stageDownsample_;     // empty holder for the last stage
  std::vector<PackedConv> stageDownsamplePacked_;
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear head_{nullptr};
};

}  // namespace fs::model
