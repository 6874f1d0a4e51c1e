#include "model/vit.h"

#include "model/family.h"
#include "model/key_names.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>

namespace fs::model {
namespace nn = torch::nn;

VitBlockImpl::VitBlockImpl(int64_t dim, int64_t heads, int64_t hidden, bool qkvBias, double eps) {
  norm1 = register_module("norm1", layerNorm(dim, eps));
  attn = register_module("attn", Attention(dim, heads, qkvBias));
  norm2 = register_module("norm2", layerNorm(dim, eps));
  mlp = register_module("mlp", Mlp(dim, hidden, dim));
}

at::Tensor VitBlockImpl::forward(at::Tensor x, TapSink& sink, const std::string& name, int64_t prefix, int64_t grid) {
  const at::Tensor y = sink.tokens(name + ".norm1", norm1->forward(x), prefix, grid, grid);
  at::Tensor probs;
  x = attn->forward(y, std::move(x), {}, {}, sink.wants(name + ".attn") ? &probs : nullptr);
  if (probs.defined()) sink.attention(name + ".attn", probs);
  const at::Tensor z = norm2->forward(x);
  return mlp->forward(z, std::move(x));
}

void VitBlockImpl::pack(bool on) { attn->pack(on), mlp->pack(on, false); }

VisionTransformerImpl::VisionTransformerImpl(const ModelConfig& c) : config_(c) {
  grid_ = c.imgSize / c.patchSize;
  prefix_ = c.distilled ? 2 : 1;
  const int64_t d = c.embedDim;
  clsToken_ = register_parameter("cls_token", at::randn({1, 1, d}) * 0.02);
  posEmbed_ = register_parameter("pos_embed", at::randn({1, grid_ * grid_ + prefix_, d}) * 0.02);
  if (c.distilled) distToken_ = register_parameter("dist_token", at::randn({1, 1, d}) * 0.02);
  auto patchEmbed = register_module("patch_embed", std::make_shared<nn::Module>());
  proj_ = patchEmbed->register_module("proj", nn::Conv2d(nn::Conv2dOptions(3, d, c.patchSize).stride(c.patchSize)));
  nn::ModuleList blocks;
  for (int i = 0; i < c.numBlocks; ++i) {
    blocks_.push_back(VitBlock(d, c.numHeads, static_cast<int64_t>(d * c.mlpRatio), c.qkvBias, c.layerNormEps));
    blocks->push_back(blocks_.back());
  }
  register_module("blocks", blocks);
  norm_ = register_module("norm", layerNorm(d, c.layerNormEps));
  head_ = register_module("head", nn::Linear(d, c.numClasses));
  if (c.distilled) headDist_ = register_module("head_dist", nn::Linear(d, c.numClasses));
}

std::vector<TapInfo> VisionTransformerImpl::taps() const {
  std::vector<TapInfo> out;
  const int g = static_cast<int>(grid_), d = config_.embedDim, p = config_.patchSize;
  out.push_back({"patch_embed", d, g, g, p, TapLayout::Tokens});
  for (size_t i = 0; i < blocks_.size(); ++i) {
    if (i + 1 == blocks_.size()) out.push_back({blockName(i) + ".norm1", d, g, g, p, TapLayout::Tokens});
    out.push_back({blockName(i), d, g, g, p, TapLayout::Tokens});
  }
  out.push_back({"norm", d, g, g, p, TapLayout::Tokens});
  return out;
}

// depth 12 -> blocks 2, 5, 8, 11
std::vector<std::string> VisionTransformerImpl::stages() const {
  std::vector<std::string> out;
  const int n = std::min(4, config_.numBlocks);
  for (int s = 1; s <= n; ++s) out.push_back(blockName(s * config_.numBlocks / n - 1));
  if (out.empty()) out.push_back("patch_embed");
  return out;
}

std::string VisionTransformerImpl::camTap() const {
  return blocks_.empty() ? "norm" : blockName(blocks_.size() - 1) + ".norm1";
}

std::vector<std::string> VisionTransformerImpl::attentionUnits() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < blocks_.size(); ++i) out.push_back(blockName(i) + ".attn");
  return out;
}

std::vector<std::string> VisionTransformerImpl::prefixTokens() const {
  if (config_.distilled) return {"cls", "dist"};
  return {"cls"};
}

void VisionTransformerImpl::pack(bool on) {
  packConv(projPacked_, proj_, on);
  for (auto& b : blocks_) b->pack(on);
}

ForwardResult VisionTransformerImpl::forward(const at::Tensor& input, const std::vector<std::string>& tapNames) {
  TapSink sink(tapNames);
  at::Tensor logits = afterPatchEmbed(conv2d(proj_, projPacked_, input), sink);
  return sink.result(logits);
}

// The patch embedding: every token sees its own patch.
LocalField VisionTransformerImpl::localPrefix() const { return LocalField::of(*proj_); }

at::Tensor VisionTransformerImpl::forwardPrefix(const at::Tensor& x, int64_t) {
  return conv2d(proj_, projPacked_, x);
}

at::Tensor VisionTransformerImpl::logitsFromPrefix(const at::Tensor& prefix) {
  TapSink none({});
  return afterPatchEmbed(prefix, none);
}

at::Tensor VisionTransformerImpl::afterPatchEmbed(const at::Tensor& patches, TapSink& sink) {
  const int64_t b = patches.size(0), d = config_.embedDim;
  at::Tensor x = sink.tokens("patch_embed", patches.flatten(2).transpose(1, 2).contiguous(), grid_, grid_);
  std::vector<at::Tensor> parts{clsToken_.expand({b, 1, d})};
  if (config_.distilled) parts.push_back(distToken_.expand({b, 1, d}));
  parts.push_back(x);
  x = at::cat(parts, 1) + posEmbed_;  // concatenate first, then add (pos_embed covers the prefix)
  for (size_t i = 0; i < blocks_.size(); ++i)
    x = sink.tokens(blockName(i), blocks_[i]->forward(std::move(x), sink, blockName(i), prefix_, grid_), prefix_, grid_,
                    grid_);
  x = sink.tokens("norm", norm_->forward(x), prefix_, grid_, grid_);
  at::Tensor logits = linear(head_, x.select(1, 0));
  if (config_.distilled) logits = (logits + linear(headDist_, x.select(1, 1))) / 2;  // eval: mean of both heads
  return logits;
}

// ---- Family traits (model/family.h): ViT and DeiT ----------------------------------------------------
namespace {

void readVit(const ConfigReader& r, ModelConfig& c) {
  c.imgSize = r.required("img_size", 1, kMaxDim);
  c.patchSize = r.required("patch_size", 1, kMaxDim);
  if (c.imgSize % c.patchSize) r.fail("'img_size' must be a multiple of 'patch_size'");
  c.embedDim = r.required("embed_dim", 1, kMaxDim);
  c.numBlocks = r.required("depth", 0, kMaxDepth);
  c.numHeads = r.required("num_heads", 1, kMaxDim);
  if (c.embedDim % c.numHeads) r.fail("'embed_dim' must be a multiple of 'num_heads'");
  c.mlpRatio = r.number("mlp_ratio", 0.01, 64, 4.0);
  r.hiddenWidth("mlp_ratio", c.embedDim, c.mlpRatio);
  c.qkvBias = !r.has("qkv_bias") || r.j.at("qkv_bias") == true;
  c.distilled = r.has("distilled") && r.j.at("distilled") == true;
  c.layerNormEps = r.number("layer_norm_eps", 0, 1, 1e-6);
  // The layout this implementation covers (timm's defaults for these variants).
  if (r.has("class_token") && r.j.at("class_token") != true) r.fail("only 'class_token': true is supported");
  if (r.has("no_embed_class") && r.j.at("no_embed_class") != false) r.fail("only 'no_embed_class': false is supported");
  if (r.has("global_pool") && r.j.at("global_pool") != "token") r.fail("only 'global_pool': \"token\" is supported");
  if (r.has("num_prefix_tokens") && r.integer("num_prefix_tokens", 0, 16, 0) != (c.distilled ? 2 : 1))
    r.fail("'num_prefix_tokens' must be 1 (class token), or 2 with 'distilled'");
  c.input.height = c.input.width = c.imgSize;
}

// pos_embed fixes the token grid: the input must have the config's size.
void checkVitInput(const ConfigReader& r, const ModelConfig& c) {
  if (c.input.height != c.imgSize || c.input.width != c.imgSize)
    r.fail("ViT/DeiT need an input size equal to 'img_size' (pos_embed is not resized)");
}

void writeVit(const ModelConfig& c, nlohmann::json& j) {
  j.update({{"img_size", c.imgSize},
            {"patch_size", c.patchSize},
            {"embed_dim", c.embedDim},
            {"depth", c.numBlocks},
            {"num_heads", c.numHeads},
            {"mlp_ratio", c.mlpRatio},
            {"qkv_bias", c.qkvBias},
            {"distilled", c.distilled},
            {"layer_norm_eps", c.layerNormEps}});
}

int64_t vitParameters(const ModelConfig& c) {
  using namespace param_count;
  const I d = c.embedDim, g = c.imgSize / c.patchSize, prefix = c.distilled ? 2 : 1;
  I n = add(mul(mul(3, c.patchSize), mul(c.patchSize, d)), d);
  n = add(n, add(mul(prefix, d), mul(g * g + prefix, d)));  // tokens and pos_embed
  const I qkv = add(mul(d, 3 * d), c.qkvBias ? 3 * d : 0);
  const I block = add(add(4 * d, add(qkv, linear(d, d))), mlp(d, static_cast<I>(d * c.mlpRatio)));
  n = add(n, mul(c.numBlocks, block));
  return add(add(n, 2 * d), mul(prefix, linear(d, c.numClasses)));
}

// torchvision's VisionTransformer (vit_b_16 ...) -> timm names. in_proj_weight stacks q, k, v with
// the heads in order inside each, as timm's qkv does.
bool adoptTorchvisionVit(TensorDict& dict) {
  if (!dict.find("encoder.pos_embedding")) return false;
  for (auto& [name, tensor] : dict.tensors) {
    std::string rest;
    if (name == "class_token")
      name = "cls_token";
    else if (name == "encoder.pos_embedding")
      name = "pos_embed";
    else if (renamePrefix(name, "conv_proj.", "patch_embed.proj.") || renamePrefix(name, "encoder.ln.", "norm.") ||
             renamePrefix(name, "heads.head.", "head."))
      continue;
    else if (name.rfind("encoder.layers.encoder_layer_", 0) == 0) {
      const int block = leadingIndex(name, 29, rest);
      if (block < 0) continue;
      std::string unit = rest;
      if (unit == "self_attention.in_proj_weight")
        unit = "attn.qkv.weight";
      else if (unit == "self_attention.in_proj_bias")
        unit = "attn.qkv.bias";
      else if (!(renamePrefix(unit, "ln_1.", "norm1.") || renamePrefix(unit, "ln_2.", "norm2.") ||
                 renamePrefix(unit, "self_attention.out_proj.", "attn.proj.") ||
                 renamePrefix(unit, "mlp.0.", "mlp.fc1.") || renamePrefix(unit, "mlp.3.", "mlp.fc2.") ||
                 renamePrefix(unit, "mlp.linear_1.", "mlp.fc1.") || renamePrefix(unit, "mlp.linear_2.", "mlp.fc2.")))
        continue;
      name = "blocks." + std::to_string(block) + "." + unit;
    }
  }
  return true;
}

Variant vitVariant(const char* id, int dim, int heads, bool distilled, int64_t params, double gmacs) {
  ModelConfig c;
  c.id = id, c.family = std::string(id).rfind("deit", 0) == 0 ? "deit" : "vit";
  c.imgSize = 224, c.patchSize = 16, c.embedDim = dim, c.numBlocks = 12, c.numHeads = heads, c.distilled = distilled;
  c.input = imagenetInput(Interpolation::Bicubic, 0.9);
  if (c.family == "vit") c.input.mean = c.input.std = {0.5f, 0.5f, 0.5f};
  std::string what = std::string(c.family == "vit" ? "ViT" : "DeiT") + " " +
                     (dim == 192   ? "Tiny"
                      : dim == 384 ? "Small"
                                   : "Base");
  return {c, what + "/16" + (distilled ? " distilled" : ""), params, gmacs};
}

FamilyTraits vitTraits(const char* name, const char* title) {
  FamilyTraits t;
  t.name = name, t.title = title;
  t.readConfig = readVit;
  t.checkInput = checkVitInput;
  t.writeConfig = writeVit;
  t.estimateParameters = vitParameters;
  t.build = [](const ModelConfig& c) -> Classifier { return std::make_shared<VisionTransformerImpl>(c); };
  // vit_tiny -> ViT-Ti/16, deit_base_distilled -> DeiT-B/16 distilled, vit_fmnist -> ViT-FMNIST
  t.variantTitle = [title = std::string(title)](const std::string& id) {
    if (id.find("fmnist") != std::string::npos) return title + "-FMNIST";
    const std::string size = id.find("tiny") != std::string::npos    ? "Ti"
                             : id.find("small") != std::string::npos ? "S"
                                                                     : "B";
    return title + "-" + size + "/16" + (id.find("distilled") != std::string::npos ? " distilled" : "");
  };
  t.fixedInputSize = true;
  return t;
}

// The nano ViT trained on Fashion-MNIST for the bundled demo: 7x7 patches of 16 px at 112x112.
ModelConfig nanoVit() {
  ModelConfig c;
  c.family = "vit", c.imgSize = 112, c.patchSize = 16, c.embedDim = 128, c.numBlocks = 4, c.numHeads = 4;
  c.mlpRatio = 2.0;
  return c;
}

}  // namespace

FamilyTraits vitFamily() {
  FamilyTraits t = vitTraits("vit", "ViT");
  t.adoptForeignNames = adoptTorchvisionVit;
  t.variants = {
      vitVariant("vit_tiny", 192, 3, false, 5717416, 1.254),
      vitVariant("vit_small", 384, 6, false, 22050664, 4.599),
      vitVariant("vit_base", 768, 12, false, 86567656, 17.564),
      fashionMnistVariant("vit_fmnist", nanoVit(), "Nano ViT"),
  };
  return t;
}

FamilyTraits deitFamily() {
  FamilyTraits t = vitTraits("deit", "DeiT");
  t.variants = {
      vitVariant("deit_tiny", 192, 3, false, 5717416, 1.254),
      vitVariant("deit_small", 384, 6, false, 22050664, 4.599),
      vitVariant("deit_base", 768, 12, false, 86567656, 17.564),
      vitVariant("deit_tiny_distilled", 192, 3, true, 5910800, 1.261),
      vitVariant("deit_small_distilled", 384, 6, true, 22436432, 4.624),
      vitVariant("deit_base_distilled", 768, 12, true, 87338192, 17.657),
  };
  return t;
}

}  // namespace fs::model
