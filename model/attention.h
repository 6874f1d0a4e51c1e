#pragma once
// Multi-head self-attention (Vaswani et al. 2017, "Attention Is All You Need") as timm's
// `Attention` (ViT, Dosovitskiy et al. 2021; DeiT, Touvron et al. 2021) and Swin's
// `WindowAttention` (Liu et al. 2021) compute it: one fused `qkv` Linear whose output feature
// s*D + h*hd + e is part s (q, k, v) of head h, softmax((q * hd^-0.5) k^T + bias + mask) over the
// keys, heads concatenated in order, then the `proj` Linear (MODELS.md, "ViT ... MHSA").
#include "model/fast_inference.h"

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

namespace fs::model {

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t dim, int64_t heads, bool qkvBias);
  // x [B,T,D] -> residual + proj(attention(x)) (no residual when it is undefined; handed over, the
  // inference path sums into it in place). bias [heads,T,T] is added to every sequence's logits;
  // mask [W,T,T] to those of sequence b as mask[b % W] (Swin: window w of each image). probs, when
  // given, receives the attention probabilities [B,heads,T,T].
  at::Tensor forward(const at::Tensor& x, at::Tensor residual = {}, const at::Tensor& bias = {},
                     const at::Tensor& mask = {}, at::Tensor* probs = nullptr);
  // Prepares (on) or drops (off) the oneDNN matmuls of qkv and proj (proj with the residual fused).
  void pack(bool on);
  int64_t heads() const { return heads_; }
  torch::nn::Linear qkv{nullptr}, proj{nullptr};

 private:
  int64_t heads_ = 1;
  PackedLinear qkvPacked_, projPacked_;
};
TORCH_MODULE(Attention);

}  // namespace fs::model
