#pragma once
// ResNet v1.5 (He et al. 2016; torchvision layout and key names: stride on the 3x3 conv).
#include "model/classifier.h"
#include "model/layers.h"
#include "model/model_config.h"

namespace fs::model {

class ResNetBlockImpl : public torch::nn::Module {  // BasicBlock or Bottleneck
 public:
  ResNetBlockImpl(int64_t in, int64_t planes, int64_t stride, bool bottleneck);
  at::Tensor forward(at::Tensor x, bool training) const;
  void fold(bool on);
  int64_t outChannels() const { return out_; }
  bool blockable() const;  // every convolution's (ConvBn::blockable)

 private:
  std::vector<ConvBn> convs_;
  ConvBn downsample_;
  bool hasDownsample_ = false;
  int64_t out_ = 0;
};
TORCH_MODULE(ResNetBlock);

class ResNetImpl : public ClassifierImpl {
 public:
  explicit ResNetImpl(const ModelConfig& config);
  std::vector<TapInfo> taps() const override;
  std::vector<std::string> stages() const override;
  ForwardResult forward(const at::Tensor& x, const std::vector<std::string>& tapNames) override;
  void prepareForInference() override;
  void invalidateInferenceCache() override;
  LocalField localPrefix() const override;
  at::Tensor forwardPrefix(const at::Tensor& x, int64_t layoutBatch) override;
  at::Tensor logitsFromPrefix(const at::Tensor& prefix) override;

 private:
  bool blockedLayout(int64_t batch) const;  // the layout of a batch's activations
  at::Tensor stemUnits(const at::Tensor& input, TapSink& sink, bool blocked);  // stem and max pooling
  at::Tensor afterStem(at::Tensor x, TapSink& sink);                         // the rest, to the logits
  ModelConfig config_;
  ConvBn stem_;
  std::vector<std::vector<ResNetBlock>> layers_;
  torch::nn::Linear fc_{nullptr};
};

}  // namespace fs::model
