#include "model/mlp_mixer.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>

namespace fs::model {
namespace nn = torch::nn;

MixerBlockImpl::MixerBlockImpl(int64_t dim, int64_t tokens, int64_t tokenHidden, int64_t channelHidden,
                               double eps) {
  norm1 = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({dim}).eps(eps)));
  mlp_tokens = register_module("mlp_tokens", Mlp(tokens, tokenHidden, tokens));
  norm2 = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({dim}).eps(eps)));
  mlp_channels = register_module("mlp_channels", Mlp(dim, channelHidden, dim));
}

// x = x + mlp_tokens(norm1(x)^T)^T ; x = x + mlp_channels(norm2(x))
at::Tensor MixerBlockImpl::forward(at::Tensor input) {
  const at::Tensor n1 = norm1->forward(input);
  at::Tensor x = mlp_tokens->forwardTokens(n1, std::move(input));  // handed over: summed into in place
  at::Tensor y = norm2->forward(x);
  return mlp_channels->forward(y, std::move(x));
}

void MixerBlockImpl::pack(bool on) {
  mlp_tokens->pack(on, true), mlp_channels->pack(on, false);
}

ResMlpBlockImpl::ResMlpBlockImpl(int64_t dim, int64_t tokens, int64_t channelHidden, double initValues) {
  norm1 = register_module("norm1", Affine(dim));
  linear_tokens = register_module("linear_tokens", nn::Linear(tokens, tokens));
  norm2 = register_module("norm2", Affine(dim));
  mlp_channels = register_module("mlp_channels", Mlp(dim, channelHidden, dim));
  ls1 = register_parameter("ls1", at::full({dim}, initValues));
  ls2 = register_parameter("ls2", at::full({dim}, initValues));
}

// x = x + ls1 * linear_tokens(norm1(x)^T)^T ; x = x + ls2 * mlp_channels(norm2(x))
at::Tensor ResMlpBlockImpl::forward(const at::Tensor& input) {
  const at::Tensor n1 = norm1->forward(input);
  const bool packed = tokensPacked_.ready() && fastInferenceAllowed();
  at::Tensor x = at::addcmul(input, ls1, packed ? tokensPacked_.run(n1) : mixTokens(linear_tokens, n1));
  return at::addcmul(x, ls2, mlp_channels->forward(norm2->forward(x)));
}

void ResMlpBlockImpl::pack(bool on) {
  mlp_channels->pack(on, false);
  if (on)
    tokensPacked_.pack(linear_tokens->weight, linear_tokens->bias);
  else
    tokensPacked_.reset();
}

MlpMixerImpl::MlpMixerImpl(const ModelConfig& c) : config_(c) {
  grid_ = c.imgSize / c.patchSize;
  const int64_t tokens = grid_ * grid_;
  auto stem = register_module("stem", std::make_shared<nn::Module>());
  proj_ = stem->register_module(
      "proj", nn::Conv2d(nn::Conv2dOptions(3, c.embedDim, c.patchSize).stride(c.patchSize)));
  nn::ModuleList blocks;
  for (int i = 0; i < c.numBlocks; ++i) {
    const auto channelHidden = static_cast<int64_t>(c.embedDim * c.channelMlpRatio);
    if (c.family == Family::ResMLP) {
      resBlocks_.push_back(ResMlpBlock(c.embedDim, tokens, channelHidden, c.initValues));
      blocks->push_back(resBlocks_.back());
    } else {
      const auto tokenHidden = static_cast<int64_t>(c.embedDim * c.tokenMlpRatio);
      mixerBlocks_.push_back(MixerBlock(c.embedDim, tokens, tokenHidden, channelHidden, c.layerNormEps));
      blocks->push_back(mixerBlocks_.back());
    }
  }
  register_module("blocks", blocks);
  if (c.family == Family::ResMLP) {
    affineNorm_ = register_module("norm", Affine(c.embedDim));
  } else {
    layerNorm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({c.embedDim}).eps(c.layerNormEps)));
  }
  head_ = register_module("head", nn::Linear(c.embedDim, c.numClasses));
}

std::vector<TapInfo> MlpMixerImpl::taps() const {
  std::vector<TapInfo> out;
  const int g = static_cast<int>(grid_);
  out.push_back({"stem", config_.embedDim, g, g, config_.patchSize, TapLayout::Tokens});
  for (int i = 0; i < config_.numBlocks; ++i)
    out.push_back({"blocks." + std::to_string(i), config_.embedDim, g, g, config_.patchSize, TapLayout::Tokens});
  return out;
}

// Blocks evenly spaced over depth: depth 12 -> 0,3,6,9 (the ConvMLP paper's Mixer columns).
std::vector<std::string> MlpMixerImpl::stages() const {
  std::vector<std::string> out;
  const int n = std::min(4, config_.numBlocks);
  for (int s = 0; s < n; ++s) out.push_back("blocks." + std::to_string(s * config_.numBlocks / n));
  return out;
}

std::string MlpMixerImpl::camTap() const { return "blocks." + std::to_string(config_.numBlocks - 1); }

at::Tensor MlpMixerImpl::block(size_t i, at::Tensor x) {
  return resBlocks_.empty() ? mixerBlocks_[i]->forward(std::move(x)) : resBlocks_[i]->forward(x);
}

void MlpMixerImpl::pack(bool on) {
  packConv(projPacked_, proj_, on);
  for (auto& b : mixerBlocks_) b->pack(on);
  for (auto& b : resBlocks_) b->pack(on);
}

ForwardResult MlpMixerImpl::forward(const at::Tensor& input, const std::vector<std::string>& tapNames) {
  TapSink sink(tapNames);
  at::Tensor x = conv2d(proj_, projPacked_, input).flatten(2).transpose(1, 2).contiguous();
  x = sink.tokens("stem", x, grid_, grid_);
  const size_t n = resBlocks_.empty() ? mixerBlocks_.size() : resBlocks_.size();
  for (size_t i = 0; i < n; ++i) x = sink.tokens("blocks." + std::to_string(i), block(i, std::move(x)), grid_, grid_);
  x = affineNorm_ ? affineNorm_->forward(x) : layerNorm_->forward(x);
  return {linear(head_, x.mean(1)), sink.take()};
}

}  // namespace fs::model
