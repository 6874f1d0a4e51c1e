#include "model/mlp_mixer.h"

#include "model/family.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>

namespace fs::model {
namespace nn = torch::nn;

MixerBlockImpl::MixerBlockImpl(int64_t dim, int64_t tokens, int64_t tokenHidden, int64_t channelHidden,
                               double eps) {
  norm1 = register_module("norm1", layerNorm(dim, eps));
  mlp_tokens = register_module("mlp_tokens", Mlp(tokens, tokenHidden, tokens));
  norm2 = register_module("norm2", layerNorm(dim, eps));
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
  at::Tensor mixed;
  if (tokensPacked_.ready() && fastInferenceAllowed())
    mixed = tokensPacked_.run(n1);
  else if (fastGradientAllowed() && tokensPacked_.differentiable())
    mixed = tokensPacked_.runDifferentiable(n1);
  else
    mixed = mixTokens(linear_tokens, n1);
  at::Tensor x = at::addcmul(input, ls1, mixed);
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
    if (c.family == "resmlp") {
      resBlocks_.push_back(ResMlpBlock(c.embedDim, tokens, channelHidden, c.initValues));
      blocks->push_back(resBlocks_.back());
    } else {
      const auto tokenHidden = static_cast<int64_t>(c.embedDim * c.tokenMlpRatio);
      mixerBlocks_.push_back(MixerBlock(c.embedDim, tokens, tokenHidden, channelHidden, c.layerNormEps));
      blocks->push_back(mixerBlocks_.back());
    }
  }
  register_module("blocks", blocks);
  if (c.family == "resmlp") {
    affineNorm_ = register_module("norm", Affine(c.embedDim));
  } else {
    layerNorm_ = register_module("norm", layerNorm(c.embedDim, c.layerNormEps));
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

at::Tensor MlpMixerImpl::afterStem(const at::Tensor& stem, TapSink& sink) {
  at::Tensor x = sink.tokens("stem", stem.flatten(2).transpose(1, 2).contiguous(), grid_, grid_);
  const size_t n = resBlocks_.empty() ? mixerBlocks_.size() : resBlocks_.size();
  for (size_t i = 0; i < n; ++i) x = sink.tokens("blocks." + std::to_string(i), block(i, std::move(x)), grid_, grid_);
  x = affineNorm_ ? affineNorm_->forward(x) : layerNorm_->forward(x);
  return linear(head_, x.mean(1));
}

ForwardResult MlpMixerImpl::forward(const at::Tensor& input, const std::vector<std::string>& tapNames) {
  TapSink sink(tapNames);
  at::Tensor logits = afterStem(conv2d(proj_, projPacked_, input), sink);
  return {std::move(logits), sink.take()};
}

// The patch embedding: every token sees its own patch only.
LocalField MlpMixerImpl::localPrefix() const { return LocalField::of(*proj_); }

at::Tensor MlpMixerImpl::forwardPrefix(const at::Tensor& x, int64_t) { return conv2d(proj_, projPacked_, x); }

at::Tensor MlpMixerImpl::logitsFromPrefix(const at::Tensor& prefix) {
  TapSink none({});
  return afterStem(prefix, none);
}

// ---- Family traits (model/family.h): MLP-Mixer and ResMLP -----------------------------------------
namespace {

void readTokenModel(const ConfigReader& r, ModelConfig& c) {
  c.imgSize = r.required("img_size", 1, kMaxDim);
  c.patchSize = r.required("patch_size", 1, kMaxDim);
  if (c.imgSize % c.patchSize) r.fail("'img_size' must be a multiple of 'patch_size'");
  c.numBlocks = r.required("num_blocks", 0, kMaxDepth);
  c.embedDim = r.required("embed_dim", 1, kMaxDim);
  c.input.height = c.input.width = c.imgSize;
}

void readMixer(const ConfigReader& r, ModelConfig& c) {
  readTokenModel(r, c);
  if (r.has("mlp_ratio")) {
    auto ratios = r.numList("mlp_ratio", 0.01, 64);
    if (ratios.size() != 2) r.fail("'mlp_ratio' must be [token, channel]");
    c.tokenMlpRatio = ratios[0], c.channelMlpRatio = ratios[1];
  }
  c.layerNormEps = r.number("layer_norm_eps", 0, 1, c.layerNormEps);
  r.hiddenWidth("mlp_ratio", c.embedDim, c.tokenMlpRatio);
  r.hiddenWidth("mlp_ratio", c.embedDim, c.channelMlpRatio);
}

void readResMlp(const ConfigReader& r, ModelConfig& c) {
  readTokenModel(r, c);
  c.channelMlpRatio = r.number("mlp_ratio", 0.01, 64, c.channelMlpRatio);
  c.initValues = r.number("init_values", 0, 10, c.initValues);
  r.hiddenWidth("mlp_ratio", c.embedDim, c.channelMlpRatio);
}

// The token grid is fixed by the weights: the input must have the config's size.
void checkTokenInput(const ConfigReader& r, const ModelConfig& c) {
  if (c.input.height != c.imgSize || c.input.width != c.imgSize)
    r.fail("token models need an input size equal to 'img_size'");
}

void writeTokenModel(const ModelConfig& c, nlohmann::json& j) {
  j.update({{"img_size", c.imgSize}, {"patch_size", c.patchSize}, {"num_blocks", c.numBlocks}, {"embed_dim", c.embedDim}});
  if (c.family == "mlp_mixer") j.update({{"mlp_ratio", {c.tokenMlpRatio, c.channelMlpRatio}}, {"layer_norm_eps", c.layerNormEps}});
  else j.update({{"mlp_ratio", c.channelMlpRatio}, {"init_values", c.initValues}});
}

int64_t tokenModelParameters(const ModelConfig& c) {
  using namespace param_count;
  const I e = c.embedDim, g = c.imgSize / c.patchSize, t = g * g;
  I n = add(mul(mul(3, c.patchSize), mul(c.patchSize, e)), e);
  const I channel = mlp(e, static_cast<I>(e * c.channelMlpRatio));
  I block;
  if (c.family == "resmlp") block = add(add(4 * e + 2 * e, linear(t, t)), channel);
  else block = add(add(4 * e, mlp(t, static_cast<I>(e * c.tokenMlpRatio))), channel);
  n = add(n, mul(c.numBlocks, block));
  return add(n, add(2 * e, linear(e, c.numClasses)));
}

FamilyTraits tokenTraits(const char* name, const char* title) {
  FamilyTraits t;
  t.name = name, t.title = title;
  t.checkInput = checkTokenInput;
  t.writeConfig = writeTokenModel;
  t.estimateParameters = tokenModelParameters;
  t.build = [](const ModelConfig& c) -> Classifier { return std::make_shared<MlpMixerImpl>(c); };
  t.fixedInputSize = true;
  return t;
}

Variant mixerVariant(const char* id, int patch, int dim, int depth, int64_t params, double gmacs) {
  ModelConfig c;
  c.id = id, c.family = "mlp_mixer", c.patchSize = patch, c.embedDim = dim, c.numBlocks = depth;
  c.input = imagenetInput(Interpolation::Bicubic);
  c.input.mean = c.input.std = {0.5f, 0.5f, 0.5f};
  return {c, "MLP-Mixer " + std::string(id + 6), params, gmacs};
}

Variant resMlpVariant(const char* id, int depth, double init, int64_t params, double gmacs) {
  ModelConfig c;
  c.id = id, c.family = "resmlp", c.patchSize = 16, c.embedDim = 384, c.numBlocks = depth;
  c.initValues = init;
  c.input = imagenetInput(Interpolation::Bicubic);
  return {c, "ResMLP-" + std::to_string(depth), params, gmacs};
}

// The nano members trained on Fashion-MNIST for the bundled demo (7x7 tokens at 112x112).
ModelConfig nanoTokenModel(const char* family) {
  ModelConfig c;
  c.family = family, c.imgSize = 112, c.patchSize = 16, c.embedDim = 128, c.numBlocks = 4;
  if (c.family == "resmlp") c.initValues = 0.1;
  return c;
}

}  // namespace

FamilyTraits mixerFamily() {
  FamilyTraits t = tokenTraits("mlp_mixer", "MLP-Mixer");
  t.aliases = {"mixer"};
  t.readConfig = readMixer;
  // mixer_b16 -> MLP-Mixer-B/16
  t.variantTitle = [](const std::string& id) {
    std::string s = id.substr(id.find('_') + 1);
    for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (s.size() > 1 && std::isdigit(static_cast<unsigned char>(s[1]))) s = s.substr(0, 1) + "/" + s.substr(1);
    return "MLP-Mixer-" + s;
  };
  t.variants = {
      mixerVariant("mixer_s32", 32, 512, 8, 19104624, 1.00),
      mixerVariant("mixer_s16", 16, 512, 8, 18528264, 3.78),
      mixerVariant("mixer_b32", 32, 768, 12, 60293428, 3.24),
      mixerVariant("mixer_b16", 16, 768, 12, 59880472, 12.60),
      mixerVariant("mixer_l32", 32, 1024, 24, 206939264, 11.25),
      mixerVariant("mixer_l16", 16, 1024, 24, 208196168, 44.55),
      fashionMnistVariant("mixer_fmnist", nanoTokenModel("mlp_mixer"), "Nano MLP-Mixer"),
  };
  return t;
}

FamilyTraits resMlpFamily() {
  FamilyTraits t = tokenTraits("resmlp", "ResMLP");
  t.readConfig = readResMlp;
  t.variants = {
      resMlpVariant("resmlp_12", 12, 0.1, 15350872, 3.01),
      resMlpVariant("resmlp_24", 24, 1e-5, 30020680, 5.96),
      resMlpVariant("resmlp_36", 36, 1e-6, 44690488, 8.91),
      fashionMnistVariant("resmlp_fmnist", nanoTokenModel("resmlp"), "Nano ResMLP"),
  };
  return t;
}

}  // namespace fs::model
