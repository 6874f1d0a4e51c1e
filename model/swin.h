#pragma once
// Swin Transformer (Liu et al. 2021, "Swin Transformer: Hierarchical Vision Transformer using
// Shifted Windows") with timm's module and key names (MODELS.md, "Swin"): NHWC inside, window
// attention with a relative position bias, odd blocks shifted by half a window with the -100 mask,
// patch merging between stages. Taps are permuted to NCHW.
#include "model/attention.h"
#include "model/classifier.h"
#include "model/layers.h"
#include "model/model_config.h"

#include <torch/nn/modules/normalization.h>

namespace fs::model {

class SwinBlockImpl : public torch::nn::Module {
 public:
  // resolution: the stage's square feature size; the window and shift shrink as timm's do when
  // the resolution is not larger than the window.
  SwinBlockImpl(int64_t dim, int64_t heads, int64_t window, bool shifted, int64_t resolution, double mlpRatio,
                bool qkvBias, double eps);
  at::Tensor forward(at::Tensor x);  // [B,H,W,C]
  void pack(bool on) { attn->pack(on), mlp->pack(on, false); }
  int64_t window() const { return window_; }
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};
  at::Tensor relative_position_bias_table;  // registered on attn: [(2*window-1)^2, heads]

 private:
  at::Tensor windows(const at::Tensor& x) const;           // [B,H,W,C] -> [B*nW, ws*ws, C]
  at::Tensor merge(const at::Tensor& w, int64_t b) const;  // the inverse
  int64_t window_ = 7, shift_ = 0, resolution_ = 0;
  at::Tensor index_, mask_;  // computed, not state: [N*N] table rows, [nW,N,N] (shifted blocks)
};
TORCH_MODULE(SwinBlock);

class SwinImpl : public ClassifierImpl {
 public:
  explicit SwinImpl(const ModelConfig& config);
  std::vector<TapInfo> taps() const override;
  std::vector<std::string> stages() const override;       // layers.0 .. layers.3
  std::string camTap() const override { return "norm"; }  // the last tap: the map the head pools
  ForwardResult forward(const at::Tensor& x, const std::vector<std::string>& tapNames) override;
  LocalField localPrefix() const override;  // the patch embedding's convolution
  at::Tensor forwardPrefix(const at::Tensor& x, int64_t layoutBatch) override;
  at::Tensor logitsFromPrefix(const at::Tensor& prefix) override;
  void prepareForInference() override { pack(true); }
  void invalidateInferenceCache() override { pack(false); }

 private:
  struct Merging {  // PatchMerging: 2x2 neighbours concatenated, LayerNorm(4C), Linear(4C, 2C)
    torch::nn::LayerNorm norm{nullptr};
    torch::nn::Linear reduction{nullptr};
  };
  void pack(bool on);
  at::Tensor afterPatchEmbed(const at::Tensor& patches, TapSink& sink);  // patches: [B,C,h,w]
  ModelConfig config_;
  torch::nn::Conv2d proj_{nullptr};
  PackedConv projPacked_;
  torch::nn::LayerNorm patchNorm_{nullptr}, norm_{nullptr};
  std::vector<Merging> merging_;  // [0] unused: stage 0 starts without merging
  std::vector<std::vector<SwinBlock>> blocks_;
  torch::nn::Linear fc_{nullptr};
};

}  // namespace fs::model
