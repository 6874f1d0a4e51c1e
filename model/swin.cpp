#include "model/swin.h"

#include "model/family.h"
#include "model/key_names.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>

namespace fs::model {
namespace nn = torch::nn;
namespace {

// timm names Swin's stages "layers.N".
std::string swinLayerName(size_t s) { return "layers." + std::to_string(s); }
// timm: a stage no larger than the window gets one window of its own size and no shift.
int64_t effectiveWindow(int64_t resolution, int64_t window) { return resolution <= window ? resolution : window; }

}  // namespace

SwinBlockImpl::SwinBlockImpl(int64_t dim, int64_t heads, int64_t window, bool shifted, int64_t resolution,
                             double mlpRatio, bool qkvBias, double eps)
    : window_(effectiveWindow(resolution, window)), resolution_(resolution) {
  shift_ = shifted && resolution > window ? window / 2 : 0;
  const int64_t ws = window_, n = ws * ws, side = 2 * ws - 1;
  norm1 = register_module("norm1", layerNorm(dim, eps));
  attn = register_module("attn", Attention(dim, heads, qkvBias));
  relative_position_bias_table =
      attn->register_parameter("relative_position_bias_table", at::randn({side * side, heads}) * 0.02);
  norm2 = register_module("norm2", layerNorm(dim, eps));
  mlp = register_module("mlp", Mlp(dim, static_cast<int64_t>(dim * mlpRatio), dim));
  // idx(i,j) = (yi-yj+ws-1)*(2ws-1) + (xi-xj+ws-1), tokens row-major inside the window
  index_ = at::empty({n * n}, at::kLong);
  auto idx = index_.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) idx[i * n + j] = (i / ws - j / ws + ws - 1) * side + (i % ws - j % ws + ws - 1);
  if (!shift_) return;
  // Shift mask: bands [0,R-ws), [R-ws,R-s), [R-s,R) in rows and columns of the rolled frame;
  // tokens of one window with different labels do not attend to each other (-100).
  const int64_t r = resolution_, s = shift_, nw = r / ws;
  const auto band = [&](int64_t v) { return v < r - ws ? 0 : v < r - s ? 1 : 2; };
  at::Tensor labels = at::empty({r, r}, at::kLong);
  auto lab = labels.accessor<int64_t, 2>();
  for (int64_t y = 0; y < r; ++y)
    for (int64_t x = 0; x < r; ++x) lab[y][x] = 3 * band(y) + band(x);
  const at::Tensor perWindow = labels.view({nw, ws, nw, ws}).permute({0, 2, 1, 3}).reshape({nw * nw, n});
  mask_ = perWindow.unsqueeze(2).ne(perWindow.unsqueeze(1)).to(at::kFloat) * -100.0;
}

at::Tensor SwinBlockImpl::windows(const at::Tensor& x) const {
  const int64_t b = x.size(0), c = x.size(3), ws = window_, nw = resolution_ / ws;
  return x.reshape({b, nw, ws, nw, ws, c}).permute({0, 1, 3, 2, 4, 5}).reshape({-1, ws * ws, c});
}

at::Tensor SwinBlockImpl::merge(const at::Tensor& w, int64_t b) const {
  const int64_t c = w.size(2), ws = window_, nw = resolution_ / ws;
  return w.view({b, nw, nw, ws, ws, c}).permute({0, 1, 3, 2, 4, 5}).reshape({b, resolution_, resolution_, c});
}

at::Tensor SwinBlockImpl::forward(at::Tensor x) {
  const int64_t n = window_ * window_;
  at::Tensor y = norm1->forward(x);
  if (shift_) y = at::roll(y, {-shift_, -shift_}, {1, 2});
  const at::Tensor bias = relative_position_bias_table.index_select(0, index_).view({n, n, -1}).permute({2, 0, 1});
  y = merge(attn->forward(windows(y), {}, bias, shift_ ? mask_ : at::Tensor()), x.size(0));
  if (shift_) y = at::roll(y, {shift_, shift_}, {1, 2});
  x = x + y;
  const at::Tensor z = norm2->forward(x);
  return mlp->forward(z, std::move(x));
}

SwinImpl::SwinImpl(const ModelConfig& c) : config_(c) {
  const double eps = c.layerNormEps;
  auto patchEmbed = register_module("patch_embed", std::make_shared<nn::Module>());
  proj_ = patchEmbed->register_module("proj",
                                      nn::Conv2d(nn::Conv2dOptions(3, c.embedDim, c.patchSize).stride(c.patchSize)));
  patchNorm_ = patchEmbed->register_module("norm", layerNorm(c.embedDim, eps));
  auto layers = register_module("layers", std::make_shared<nn::Module>());
  int64_t res = c.imgSize / c.patchSize, dim = c.embedDim;
  for (size_t s = 0; s < c.depths.size(); ++s) {
    auto stage = layers->register_module(std::to_string(s), std::make_shared<nn::Module>());
    Merging m;
    if (s > 0) {
      auto down = stage->register_module("downsample", std::make_shared<nn::Module>());
      m.norm = down->register_module("norm", layerNorm(4 * dim, eps));
      m.reduction = down->register_module("reduction", nn::Linear(nn::LinearOptions(4 * dim, 2 * dim).bias(false)));
      dim *= 2, res /= 2;
    }
    merging_.push_back(m);
    nn::ModuleList list;
    blocks_.emplace_back();
    for (int b = 0; b < c.depths[s]; ++b) {
      blocks_.back().push_back(
          SwinBlock(dim, c.stageHeads[s], c.windowSize, b % 2 == 1, res, c.mlpRatio, c.qkvBias, eps));
      list->push_back(blocks_.back().back());
    }
    stage->register_module("blocks", list);
  }
  norm_ = register_module("norm", layerNorm(dim, eps));
  auto head = register_module("head", std::make_shared<nn::Module>());
  fc_ = head->register_module("fc", nn::Linear(dim, c.numClasses));
}

std::vector<TapInfo> SwinImpl::taps() const {
  std::vector<TapInfo> out;
  int res = config_.imgSize / config_.patchSize, dim = config_.embedDim, stride = config_.patchSize;
  out.push_back({"patch_embed", dim, res, res, stride, TapLayout::NHWC});
  for (size_t s = 0; s < blocks_.size(); ++s) {
    if (s > 0) dim *= 2, res /= 2, stride *= 2;
    for (size_t b = 0; b < blocks_[s].size(); ++b)
      out.push_back({swinLayerName(s) + ".blocks." + std::to_string(b), dim, res, res, stride, TapLayout::NHWC});
    out.push_back({swinLayerName(s), dim, res, res, stride, TapLayout::NHWC});
  }
  out.push_back({"norm", dim, res, res, stride, TapLayout::NHWC});
  return out;
}

std::vector<std::string> SwinImpl::stages() const {
  std::vector<std::string> out;
  for (size_t s = 0; s < blocks_.size(); ++s) out.push_back(swinLayerName(s));
  return out;
}

ForwardResult SwinImpl::forward(const at::Tensor& input, const std::vector<std::string>& tapNames) {
  TapSink sink(tapNames);
  at::Tensor logits = afterPatchEmbed(conv2d(proj_, projPacked_, input), sink);
  return sink.result(logits);
}

// The patch embedding's convolution (its norm is per token).
LocalField SwinImpl::localPrefix() const { return LocalField::of(*proj_); }

at::Tensor SwinImpl::forwardPrefix(const at::Tensor& x, int64_t) { return conv2d(proj_, projPacked_, x); }

at::Tensor SwinImpl::logitsFromPrefix(const at::Tensor& prefix) {
  TapSink none({});
  return afterPatchEmbed(prefix, none);
}

at::Tensor SwinImpl::afterPatchEmbed(const at::Tensor& patches, TapSink& sink) {
  at::Tensor x = sink.nhwc("patch_embed", patchNorm_->forward(patches.permute({0, 2, 3, 1})));
  for (size_t s = 0; s < blocks_.size(); ++s) {
    if (s > 0) {  // channels [x(2i,2j), x(2i+1,2j), x(2i,2j+1), x(2i+1,2j+1)]
      const int64_t b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
      x = x.reshape({b, h / 2, 2, w / 2, 2, c}).permute({0, 1, 3, 4, 2, 5}).flatten(3);
      x = linear(merging_[s].reduction, merging_[s].norm->forward(x));
    }
    for (size_t b = 0; b < blocks_[s].size(); ++b)
      x = sink.nhwc(swinLayerName(s) + ".blocks." + std::to_string(b), blocks_[s][b]->forward(std::move(x)));
    x = sink.nhwc(swinLayerName(s), x);
  }
  x = sink.nhwc("norm", norm_->forward(x));
  return linear(fc_, x.mean({1, 2}));
}

void SwinImpl::pack(bool on) {
  packConv(projPacked_, proj_, on);
  for (auto& stage : blocks_)
    for (auto& b : stage) b->pack(on);
}

// ---- Family traits (model/family.h): Swin ------------------------------------------------------------
namespace {

void readSwin(const ConfigReader& r, ModelConfig& c) {
  c.imgSize = r.required("img_size", 1, kMaxDim);
  c.patchSize = r.integer("patch_size", 1, kMaxDim, 4);
  c.windowSize = r.integer("window_size", 1, 64, 7);
  c.embedDim = r.required("embed_dim", 1, kMaxDim);
  c.depths = r.intList("depths", 0, kMaxDepth);
  c.stageHeads = r.intList("num_heads", 1, kMaxDim);
  if (c.depths.size() != c.stageHeads.size()) r.fail("'depths' and 'num_heads' need the same length");
  for (size_t s = 0; s < c.depths.size(); ++s)
    if ((int64_t(c.embedDim) << s) % c.stageHeads[s])
      r.fail("each stage's width must be a multiple of its 'num_heads'");
  c.mlpRatio = r.number("mlp_ratio", 0.01, 64, 4.0);
  r.hiddenWidth("mlp_ratio", int64_t(c.embedDim) << (c.depths.size() - 1), c.mlpRatio);
  c.qkvBias = !r.has("qkv_bias") || r.j.at("qkv_bias") == true;
  c.layerNormEps = r.number("layer_norm_eps", 0, 1, 1e-5);
  if (r.has("patch_norm") && r.j.at("patch_norm") != true) r.fail("only 'patch_norm': true is supported");
  if (r.has("global_pool") && r.j.at("global_pool") != "avg") r.fail("only 'global_pool': \"avg\" is supported");
  c.input.height = c.input.width = c.imgSize;
}

// The windows tile every stage exactly (no padding) at the config's own input size.
void checkSwinInput(const ConfigReader& r, const ModelConfig& c) {
  if (c.input.height != c.imgSize || c.input.width != c.imgSize) r.fail("Swin needs an input size equal to 'img_size'");
  int64_t res = c.imgSize / c.patchSize;
  for (size_t s = 0; s < c.depths.size(); ++s, res /= 2) {
    if (c.imgSize % c.patchSize || (s > 0 && res * 2 != (c.imgSize / c.patchSize) >> (s - 1)) ||
        res % effectiveWindow(res, c.windowSize))
      r.fail("stage " + std::to_string(s) + " (" + std::to_string(res) + "x" + std::to_string(res) +
             ") is not tiled by the window: choose img_size, patch_size and window_size so that it is");
  }
}

void writeSwin(const ModelConfig& c, nlohmann::json& j) {
  j.update({{"img_size", c.imgSize},
            {"patch_size", c.patchSize},
            {"window_size", c.windowSize},
            {"embed_dim", c.embedDim},
            {"depths", c.depths},
            {"num_heads", c.stageHeads},
            {"mlp_ratio", c.mlpRatio},
            {"qkv_bias", c.qkvBias},
            {"layer_norm_eps", c.layerNormEps}});
}

int64_t swinParameters(const ModelConfig& c) {
  using namespace param_count;
  I dim = c.embedDim, res = c.imgSize / c.patchSize;
  I n = add(mul(mul(3, c.patchSize * c.patchSize), dim), 3 * dim);
  for (size_t s = 0; s < c.depths.size(); ++s) {
    if (s > 0) n = add(n, add(8 * dim, mul(4 * dim, 2 * dim))), dim *= 2, res /= 2;
    const I side = 2 * effectiveWindow(res, c.windowSize) - 1;
    const I attn =
        add(add(mul(dim, 3 * dim), c.qkvBias ? 3 * dim : 0), add(linear(dim, dim), mul(side * side, c.stageHeads[s])));
    n = add(n, mul(c.depths[s], add(add(4 * dim, attn), mlp(dim, static_cast<I>(dim * c.mlpRatio)))));
  }
  return add(n, add(2 * dim, linear(dim, c.numClasses)));
}

bool computedBuffer(const std::string& name) {
  return name.find("relative_position_index") != std::string::npos || name.find("attn_mask") != std::string::npos;
}

// torchvision's swin_t/s/b (features.<k>, head), the original release and timm <= 0.6.13 (merging
// stored with the stage before it, head.weight) -> timm names; computed buffers are dropped.
bool adoptSwinNames(TensorDict& dict) {
  const bool torchvision = dict.find("features.1.0.attn.relative_position_bias_table") != nullptr;
  const bool swin = dict.find("layers.0.blocks.0.attn.relative_position_bias_table") != nullptr;
  const bool old = swin && !dict.find("head.fc.weight");
  bool buffers = false;
  for (const auto& entry : dict.tensors) buffers = buffers || computedBuffer(entry.first);
  if (!torchvision && !old && !(swin && buffers)) return false;
  std::vector<std::pair<std::string, at::Tensor>> kept;
  for (auto& [name, tensor] : dict.tensors) {
    if (computedBuffer(name)) continue;
    std::string rest, unit;
    if (renamePrefix(name, "head.", "head.fc.")) {
    } else if (torchvision && name.rfind("features.", 0) == 0) {
      const int k = leadingIndex(name, 9, rest);
      if (k == 0) {
        renamePrefix(rest, "0.", "patch_embed.proj.") || renamePrefix(rest, "2.", "patch_embed.norm.");
        name = rest;
      } else if (k > 0 && k % 2 == 0) {
        name = swinLayerName(k / 2) + ".downsample." + rest;
      } else if (const int b = k > 0 ? leadingIndex(rest, 0, unit) : -1; b >= 0) {
        renamePrefix(unit, "mlp.0.", "mlp.fc1.") || renamePrefix(unit, "mlp.3.", "mlp.fc2.");
        name = swinLayerName((k - 1) / 2) + ".blocks." + std::to_string(b) + "." + unit;
      }
    } else if (old && name.rfind("layers.", 0) == 0) {
      const int s = leadingIndex(name, 7, rest);
      if (s >= 0 && rest.rfind("downsample.", 0) == 0) name = swinLayerName(s + 1) + "." + rest;
    }
    kept.emplace_back(std::move(name), std::move(tensor));
  }
  dict.tensors = std::move(kept);
  return true;
}

Variant swinVariant(const char* id, int dim, std::vector<int> depths, std::vector<int> heads, int64_t params,
                    double gmacs) {
  ModelConfig c;
  c.id = id, c.family = "swin", c.imgSize = 224, c.patchSize = 4, c.windowSize = 7, c.embedDim = dim;
  c.depths = depths, c.stageHeads = heads, c.layerNormEps = 1e-5;
  c.input = imagenetInput(Interpolation::Bicubic, 0.9);
  return {c, std::string("Swin-") + (dim == 128 ? "B" : depths[2] == 6 ? "T" : "S"), params, gmacs};
}

}  // namespace

FamilyTraits swinFamily() {
  FamilyTraits t;
  t.name = "swin", t.title = "Swin";
  t.readConfig = readSwin;
  t.checkInput = checkSwinInput;
  t.writeConfig = writeSwin;
  t.estimateParameters = swinParameters;
  t.adoptForeignNames = adoptSwinNames;
  t.build = [](const ModelConfig& c) -> Classifier { return std::make_shared<SwinImpl>(c); };
  t.variantTitle = [](const std::string& id) {  // swin_tiny -> Swin-T
    return "Swin-" + std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(id[5]))));
  };
  t.fixedInputSize = true;
  t.variants = {
      swinVariant("swin_tiny", 96, {2, 2, 6, 2}, {3, 6, 12, 24}, 28288354, 4.491),
      swinVariant("swin_small", 96, {2, 2, 18, 2}, {3, 6, 12, 24}, 49606258, 8.741),
      swinVariant("swin_base", 128, {2, 2, 18, 2}, {4, 8, 16, 32}, 87768224, 15.431),
  };
  return t;
}

}  // namespace fs::model
