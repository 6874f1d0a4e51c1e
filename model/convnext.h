#pragma once
// ConvNeXt (Liu et al. 2022, "A ConvNet for the 2020s") with timm's module and key names
// (MODELS.md, "ConvNeXt"): patchify stem, stages of depthwise 7x7 -> LayerNorm -> MLP -> layer
// scale blocks, LayerNorm2d + 2x2 stride-2 downsampling, pooled head with a LayerNorm. NCHW taps.
#include "model/classifier.h"
#include "model/layers.h"
#include "model/model_config.h"

#include <torch/nn/modules/normalization.h>

namespace fs::model {

class ConvNeXtBlockImpl : public torch::nn::Module {
 public:
  ConvNeXtBlockImpl(int64_t dim, int64_t kernel, int64_t hidden, bool layerScale, double initValue, double eps);
  // x + gamma * fc2(gelu(fc1(norm(conv_dw(x))))) (the MLP over channels at every pixel). x is
  // handed over: on the prepared path the residual sum happens in place, with gamma folded into fc2.
  at::Tensor forward(at::Tensor x);
  void pack(bool on);
  torch::nn::Conv2d conv_dw{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  Mlp mlp{nullptr};
  at::Tensor gamma;

 private:
  PackedConv dwPacked_;
  PackedLinear fc1Packed_, fc2Packed_;
  at::Tensor fc2Weight_, fc2Bias_;  // gamma * fc2, for fc2Packed_
};
TORCH_MODULE(ConvNeXtBlock);

class ConvNeXtImpl : public ClassifierImpl {
 public:
  explicit ConvNeXtImpl(const ModelConfig& config);
  std::vector<TapInfo> taps() const override;
  std::vector<std::string> stages() const override;
  // The last stage whose map has more than one position: a CAM over a 1x1 map is a constant (the
  // nano demo's 112x112 input ends at 1x1); the last stage for every ImageNet variant.
  std::string camTap() const override;
  ForwardResult forward(const at::Tensor& x, const std::vector<std::string>& tapNames) override;
  LocalField localPrefix() const override;  // the stem's convolution
  at::Tensor forwardPrefix(const at::Tensor& x, int64_t layoutBatch) override;
  at::Tensor logitsFromPrefix(const at::Tensor& prefix) override;
  void prepareForInference() override { pack(true); }
  void invalidateInferenceCache() override { pack(false); }

 private:
  struct Downsample {
    torch::nn::LayerNorm norm{nullptr};
    torch::nn::Conv2d conv{nullptr};
    PackedConv packed;
  };
  void pack(bool on);
  at::Tensor afterStemConv(const at::Tensor& stem, TapSink& sink);  // stem: the stem convolution's output
  ModelConfig config_;
  torch::nn::Conv2d stemConv_{nullptr};
  PackedConv stemPacked_;
  torch::nn::LayerNorm stemNorm_{nullptr}, headNorm_{nullptr};
  std::vector<Downsample> downsamples_;  // [0] unused: stage 0 has none
  std::vector<std::vector<ConvNeXtBlock>> blocks_;
  torch::nn::Linear fc_{nullptr};
};

}  // namespace fs::model
