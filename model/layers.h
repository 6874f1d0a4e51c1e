#pragma once
// Building blocks shared by the architectures: MLP, ResMLP's Affine, conv/linear wrappers that
// count multiply-accumulates (C++ modules have no hooks), and BatchNorm folding for inference.
#include "model/fast_inference.h"

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <cstdint>

namespace fs::model {

// While a MacCounter lives on this thread, conv2d()/linear()/tokenMix() add their MACs to it.
class MacCounter {
 public:
  MacCounter();
  ~MacCounter();
  MacCounter(const MacCounter&) = delete;
  MacCounter& operator=(const MacCounter&) = delete;
  int64_t total() const { return total_; }
  static void add(int64_t macs);

 private:
  int64_t total_ = 0;
  MacCounter* previous_ = nullptr;
};

at::Tensor conv2d(const torch::nn::Conv2d& conv, const at::Tensor& x);
// The same through `packed` when it is ready and the weights want no gradient (fast_inference.h);
// a blocked x, or a blocked `out`, needs that path.
at::Tensor conv2d(const torch::nn::Conv2d& conv, const PackedConv& packed, const at::Tensor& x,
                  ConvOutput out = ConvOutput::LikeInput);
// True when conv2d(conv, packed, ...) would run `packed` now and its output fills channel blocks.
bool blockable(const PackedConv& packed);
// Max pooling of NCHW (any memory format) or blocked activations; `packedPath`: the layer before
// it ran packed, so that without a gradient maxPool2dInference() runs it (fast_inference.h).
at::Tensor maxPool2d(const at::Tensor& x, int64_t kernel, int64_t stride, int64_t padding, bool packedPath);
// Packs (on) or drops (off) a plain convolution's oneDNN copy of its weights.
void packConv(PackedConv& packed, const torch::nn::Conv2d& conv, bool on);
at::Tensor linear(const torch::nn::Linear& fc, const at::Tensor& x);
// fc applied along dim 1 of [B,N,C] (token mixing) without transposing: W x + b.
at::Tensor mixTokens(const torch::nn::Linear& fc, const at::Tensor& x);
// A LayerNorm over the last dimension (`dim` features, affine) with the given epsilon.
torch::nn::LayerNorm layerNorm(int64_t dim, double eps);

// Mlp as in timm/ConvMLP: fc1 -> exact GELU -> fc2.
class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t in, int64_t hidden, int64_t out);
  // residual + fc2(gelu(fc1(x))) over the last dim; no residual when it is undefined. Without
  // autograd (once packed) GELU and the residual sum are fused into oneDNN matmuls.
  at::Tensor forward(const at::Tensor& x, at::Tensor residual = {});
  // Mixing along dim 1 of [B,N,C] (the token MLP) without transposing: W2 gelu(W1 x + b1) + b2.
  at::Tensor forwardTokens(const at::Tensor& x, at::Tensor residual = {});
  // Prepares (on) or drops (off) the packed forms: for forwardTokens() its inference-only form;
  // for forward() the inference-only form and the gradient passes' form on [N,H,W,C] tokens
  // (ConvMLP's stages) or [B,N,C] tokens (Mixer's, ResMLP's, ViT's and Swin's channel MLPs, as
  // [B,N,1,C]): fc1 and fc2 as packed 1x1 convolutions on the tokens viewed as a channels-last image
  // (PackedConv::runDifferentiable, frozen weights), GELU and the residual sum by ATen. Under AVX2
  // oneDNN's 1x1 kernels ran ConvMLP-S's channel-MLP products at 186-205 GFLOP/s forward and
  // 150-190 backward (batch 8), BLAS's sgemm at 121-170; integrated gradients and SmoothGrad on
  // convmlp_s took 1-10% less on both ISAs, on mixer_fmnist and resmlp_fmnist 22-28% less
  // (README "Kernels per ISA").
  void pack(bool on, bool tokens);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

 private:
  PackedLinear fc1Packed_, fc2Packed_;
  PackedTokenMix fc1Tokens_, fc2Tokens_;
  PackedConv fc1Pointwise_, fc2Pointwise_;
};
TORCH_MODULE(Mlp);

// ResMLP's Affine norm: beta + alpha * x, alpha/beta of shape [1,1,dim].
class AffineImpl : public torch::nn::Module {
 public:
  explicit AffineImpl(int64_t dim);
  at::Tensor forward(const at::Tensor& x);
  at::Tensor alpha, beta;
};
TORCH_MODULE(Affine);

// conv followed by eval-mode BatchNorm, optionally folded into one convolution.
class ConvBn {
 public:
  ConvBn() = default;
  ConvBn(torch::nn::Conv2d conv, torch::nn::BatchNorm2d bn) : conv_(conv), bn_(bn) {}
  // conv, BN, then `op` (fused into the convolution on the inference-only path; see PackedConv
  // for when `addend` is reused in place).
  // A blocked x, or a blocked `out`, needs blockable() (fast_inference.h, "Blocked activations").
  at::Tensor forward(const at::Tensor& x, bool training, PostOp op = PostOp::None, at::Tensor addend = {},
                     ConvOutput out = ConvOutput::LikeInput) const;
  // True when the next forward (not training) runs the packed convolution and its output fills
  // whole channel blocks.
  bool blockable() const;
  // True when folded: the next forward without a gradient runs the packed convolution.
  bool packed() const { return packed_.ready(); }
  const torch::nn::Conv2d& conv() const { return conv_; }
  void fold();      // computes folded weights (and their oneDNN-packed form) from the parameters
  void unfold() { weight_ = at::Tensor(); bias_ = at::Tensor(); packed_.reset(); }

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  at::Tensor weight_, bias_;
  PackedConv packed_;
};

}  // namespace fs::model
