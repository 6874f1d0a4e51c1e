#include "model/convnext.h"

#include "model/family.h"
#include "model/key_names.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/modules/container/modulelist.h>

namespace fs::model {
namespace nn = torch::nn;
namespace {


// LayerNorm2d: LayerNorm over the channels at every pixel (NHWC and back).
at::Tensor layerNorm2d(nn::LayerNorm norm, const at::Tensor& x) {
  return norm->forward(x.permute({0, 2, 3, 1})).permute({0, 3, 1, 2});
}

std::string stageName(size_t s) { return "stages." + std::to_string(s); }

}  // namespace

ConvNeXtBlockImpl::ConvNeXtBlockImpl(int64_t dim, int64_t kernel, int64_t hidden, bool layerScale, double initValue,
                                     double eps) {
  conv_dw = register_module("conv_dw", nn::Conv2d(nn::Conv2dOptions(dim, dim, kernel).padding(kernel / 2).groups(dim)));
  norm = register_module("norm", layerNorm(dim, eps));
  mlp = register_module("mlp", Mlp(dim, hidden, dim));
  if (layerScale) gamma = register_parameter("gamma", at::full({dim}, initValue));
}

at::Tensor ConvNeXtBlockImpl::forward(at::Tensor x) {
  const at::Tensor y = norm->forward(conv2d(conv_dw, dwPacked_, x).permute({0, 2, 3, 1}));  // NHWC
  if (fc1Packed_.ready() && fastInferenceAllowed()) {
    at::Tensor shortcut = x.permute({0, 2, 3, 1});  // a channels-last x is contiguous NHWC here
    x.reset();                                      // so that the sum may reuse it in place
    if (!shortcut.is_contiguous()) shortcut = shortcut.contiguous();
    return fc2Packed_.run(fc1Packed_.run(y, MatmulOp::Gelu), MatmulOp::Add, std::move(shortcut)).permute({0, 3, 1, 2});
  }
  at::Tensor z = linear(mlp->fc2, at::gelu(linear(mlp->fc1, y)));
  if (gamma.defined()) z = z * gamma;
  return x + z.permute({0, 3, 1, 2});
}

void ConvNeXtBlockImpl::pack(bool on) {
  dwPacked_.reset(), fc1Packed_.reset(), fc2Packed_.reset();
  fc2Weight_ = at::Tensor(), fc2Bias_ = at::Tensor();
  if (!on) return;
  torch::NoGradGuard noGrad;
  packConv(dwPacked_, conv_dw, true);
  storeForMatmul(mlp->fc1->weight);
  fc1Packed_.pack(mlp->fc1->weight, mlp->fc1->bias);
  const at::Tensor g = gamma.defined() ? gamma : at::ones_like(mlp->fc2->bias);
  fc2Weight_ = (mlp->fc2->weight * g.unsqueeze(1)).contiguous();
  fc2Bias_ = (mlp->fc2->bias * g).contiguous();
  storeForMatmul(fc2Weight_);
  fc2Packed_.pack(fc2Weight_, fc2Bias_);
}

ConvNeXtImpl::ConvNeXtImpl(const ModelConfig& c) : config_(c) {
  const auto& dims = c.dims;
  const double eps = c.layerNormEps;
  auto stem = register_module("stem", std::make_shared<nn::Module>());
  stemConv_ = stem->register_module("0", nn::Conv2d(nn::Conv2dOptions(3, dims[0], c.patchSize).stride(c.patchSize)));
  stemNorm_ = stem->register_module("1", layerNorm(dims[0], eps));
  auto stages = register_module("stages", std::make_shared<nn::Module>());
  for (size_t s = 0; s < c.depths.size(); ++s) {
    auto stage = stages->register_module(std::to_string(s), std::make_shared<nn::Module>());
    Downsample ds;
    if (s > 0) {
      auto down = stage->register_module("downsample", std::make_shared<nn::Module>());
      ds.norm = down->register_module("0", layerNorm(dims[s - 1], eps));
      ds.conv = down->register_module("1", nn::Conv2d(nn::Conv2dOptions(dims[s - 1], dims[s], 2).stride(2)));
    }
    downsamples_.push_back(ds);
    nn::ModuleList list;
    blocks_.emplace_back();
    for (int b = 0; b < c.depths[s]; ++b) {
      blocks_.back().push_back(ConvNeXtBlock(dims[s], c.kernelSize, static_cast<int64_t>(dims[s] * c.mlpRatio),
                                             c.layerScale, c.initValues, eps));
      list->push_back(blocks_.back().back());
    }
    stage->register_module("blocks", list);
  }
  auto head = register_module("head", std::make_shared<nn::Module>());
  headNorm_ = head->register_module("norm", layerNorm(dims.back(), eps));
  fc_ = head->register_module("fc", nn::Linear(dims.back(), c.numClasses));
}

std::vector<TapInfo> ConvNeXtImpl::taps() const {
  std::vector<TapInfo> out;
  int h = config_.input.height / config_.patchSize, w = config_.input.width / config_.patchSize;
  int stride = config_.patchSize;
  out.push_back({"stem", config_.dims[0], h, w, stride, TapLayout::NCHW});
  for (size_t s = 0; s < blocks_.size(); ++s) {
    if (s > 0) h /= 2, w /= 2, stride *= 2;
    const int d = config_.dims[s];
    for (size_t b = 0; b < blocks_[s].size(); ++b)
      out.push_back({stageName(s) + ".blocks." + std::to_string(b), d, h, w, stride, TapLayout::NCHW});
    out.push_back({stageName(s), d, h, w, stride, TapLayout::NCHW});
  }
  return out;
}

std::vector<std::string> ConvNeXtImpl::stages() const {
  std::vector<std::string> out;
  for (size_t s = 0; s < blocks_.size(); ++s) out.push_back(stageName(s));
  return out;
}

std::string ConvNeXtImpl::camTap() const {
  const std::vector<std::string> names = stages();
  std::string chosen = names.back();
  for (const TapInfo& t : taps())
    if (t.height * t.width > 1 && std::find(names.begin(), names.end(), t.name) != names.end()) chosen = t.name;
  return chosen;
}

ForwardResult ConvNeXtImpl::forward(const at::Tensor& input, const std::vector<std::string>& tapNames) {
  TapSink sink(tapNames);
  at::Tensor logits = afterStemConv(conv2d(stemConv_, stemPacked_, input), sink);
  return sink.result(logits);
}

// The stem's convolution (its norm is per pixel).
LocalField ConvNeXtImpl::localPrefix() const { return LocalField::of(*stemConv_); }

at::Tensor ConvNeXtImpl::forwardPrefix(const at::Tensor& x, int64_t) { return conv2d(stemConv_, stemPacked_, x); }

at::Tensor ConvNeXtImpl::logitsFromPrefix(const at::Tensor& prefix) {
  TapSink none({});
  return afterStemConv(prefix, none);
}

at::Tensor ConvNeXtImpl::afterStemConv(const at::Tensor& stem, TapSink& sink) {
  at::Tensor x = sink.nchw("stem", layerNorm2d(stemNorm_, stem));
  for (size_t s = 0; s < blocks_.size(); ++s) {
    if (s > 0) x = conv2d(downsamples_[s].conv, downsamples_[s].packed, layerNorm2d(downsamples_[s].norm, x));
    for (size_t b = 0; b < blocks_[s].size(); ++b)
      x = sink.nchw(stageName(s) + ".blocks." + std::to_string(b), blocks_[s][b]->forward(std::move(x)));
    x = sink.nchw(stageName(s), x);
  }
  return linear(fc_, headNorm_->forward(x.mean({2, 3})));  // pool first, then head.norm
}

void ConvNeXtImpl::pack(bool on) {
  packConv(stemPacked_, stemConv_, on);
  for (auto& ds : downsamples_)
    if (ds.conv) packConv(ds.packed, ds.conv, on);
  for (auto& stage : blocks_)
    for (auto& b : stage) b->pack(on);
}

// ---- Family traits (model/family.h): ConvNeXt --------------------------------------------------------
namespace {

void readConvNeXt(const ConfigReader& r, ModelConfig& c) {
  c.depths = r.intList("depths", 0, kMaxDepth);
  c.dims = r.intList("dims", 1, kMaxDim);
  if (c.depths.size() != c.dims.size() || c.depths.size() > 4)
    r.fail("'depths' and 'dims' need the same length (1 to 4)");
  c.patchSize = r.integer("patch_size", 1, 64, 4);
  c.kernelSize = r.integer("kernel_size", 1, 31, 7);
  if (c.kernelSize % 2 == 0) r.fail("'kernel_size' must be odd");
  c.mlpRatio = r.number("mlp_ratio", 0.01, 64, 4.0);
  for (int d : c.dims) r.hiddenWidth("mlp_ratio", d, c.mlpRatio);
  c.layerScale = !(r.has("ls_init_value") && r.j.at("ls_init_value").is_null());
  if (c.layerScale) c.initValues = r.number("ls_init_value", 0, 10, 1e-6);
  c.layerNormEps = r.number("layer_norm_eps", 0, 1, 1e-6);
  if (r.has("head_norm_first") && r.j.at("head_norm_first") != false)
    r.fail("only 'head_norm_first': false is supported");
}

void checkConvNeXtInput(const ConfigReader& r, const ModelConfig& c) {
  const int64_t need = int64_t(c.patchSize) << (c.depths.size() - 1);
  if (c.input.height < need || c.input.width < need)
    r.fail("the input must be at least " + std::to_string(need) + " pixels on each side");
}

void writeConvNeXt(const ModelConfig& c, nlohmann::json& j) {
  j.update({{"depths", c.depths},
            {"dims", c.dims},
            {"patch_size", c.patchSize},
            {"kernel_size", c.kernelSize},
            {"mlp_ratio", c.mlpRatio},
            {"layer_norm_eps", c.layerNormEps}});
  j["ls_init_value"] = c.layerScale ? nlohmann::json(c.initValues) : nlohmann::json(nullptr);
}

int64_t convNeXtParameters(const ModelConfig& c) {
  using namespace param_count;
  const I k = c.kernelSize;
  I n = add(mul(mul(3, c.patchSize * c.patchSize), c.dims[0]), 3 * I(c.dims[0]));
  for (size_t s = 0; s < c.depths.size(); ++s) {
    const I d = c.dims[s];
    if (s > 0) n = add(n, add(2 * I(c.dims[s - 1]), add(mul(mul(c.dims[s - 1], 4), d), d)));
    const I block = add(add(d * k * k + d, 2 * d), add(mlp(d, static_cast<I>(d * c.mlpRatio)), c.layerScale ? d : 0));
    n = add(n, mul(c.depths[s], block));
  }
  return add(n, add(2 * I(c.dims.back()), linear(c.dims.back(), c.numClasses)));
}

// A block unit's name in torchvision's CNBlock (block.<i>, layer_scale) -> timm's.
bool torchvisionBlockUnit(std::string& unit, at::Tensor& tensor) {
  if (unit == "layer_scale") {
    unit = "gamma", tensor = tensor.reshape({-1});  // [C,1,1] -> [C]
    return true;
  }
  return renamePrefix(unit, "block.0.", "conv_dw.") || renamePrefix(unit, "block.2.", "norm.") ||
         renamePrefix(unit, "block.3.", "mlp.fc1.") || renamePrefix(unit, "block.5.", "mlp.fc2.");
}

// torchvision's convnext_* (features.<k>, classifier) and the original release
// (downsample_layers, stages.<s>.<b>, dwconv, pwconv1/2, norm, head) -> timm names.
bool adoptConvNeXtNames(TensorDict& dict) {
  const bool torchvision = dict.find("features.1.0.layer_scale") != nullptr;
  const bool original = dict.find("downsample_layers.0.0.weight") != nullptr;
  if (!torchvision && !original) return false;
  for (auto& [name, tensor] : dict.tensors) {
    std::string rest, unit;
    if (torchvision) {
      if (renamePrefix(name, "classifier.0.", "head.norm.") || renamePrefix(name, "classifier.2.", "head.fc."))
        continue;
      const int k = name.rfind("features.", 0) == 0 ? leadingIndex(name, 9, rest) : -1;
      if (k == 0)
        name = "stem." + rest;
      else if (k > 0 && k % 2 == 0)
        name = stageName(k / 2) + ".downsample." + rest;
      else if (const int b = k > 0 ? leadingIndex(rest, 0, unit) : -1; b >= 0 && torchvisionBlockUnit(unit, tensor))
        name = stageName((k - 1) / 2) + ".blocks." + std::to_string(b) + "." + unit;
    } else {
      if (renamePrefix(name, "norm.", "head.norm.") || renamePrefix(name, "head.", "head.fc.")) continue;
      const int s = name.rfind("downsample_layers.", 0) == 0 ? leadingIndex(name, 18, rest) : -1;
      if (s == 0)
        name = "stem." + rest;
      else if (s > 0)
        name = stageName(s) + ".downsample." + rest;
      else if (const int st = name.rfind("stages.", 0) == 0 ? leadingIndex(name, 7, rest) : -1; st >= 0) {
        const int b = leadingIndex(rest, 0, unit);
        if (b < 0) continue;
        renamePrefix(unit, "dwconv.", "conv_dw.") || renamePrefix(unit, "pwconv1.", "mlp.fc1.") ||
            renamePrefix(unit, "pwconv2.", "mlp.fc2.");
        name = stageName(st) + ".blocks." + std::to_string(b) + "." + unit;
      }
    }
  }
  return true;
}

Variant convNeXtVariant(const char* id, std::vector<int> depths, std::vector<int> dims, double crop, int64_t params,
                        double gmacs) {
  ModelConfig c;
  c.id = id, c.family = "convnext", c.depths = depths, c.dims = dims, c.patchSize = 4;
  c.input = imagenetInput(Interpolation::Bicubic, crop);
  return {c, std::string("ConvNeXt-") + (dims[0] == 128 ? "B" : depths[2] == 9 ? "T" : "S"), params, gmacs};
}

// The nano ConvNeXt trained on Fashion-MNIST for the bundled demo: a patch-8 stem (14x14 at 112x112),
// LayerScale initialised as in the paper (1e-6).
ModelConfig nanoConvNeXt() {
  ModelConfig c;
  c.family = "convnext", c.depths = {1, 1, 2, 1}, c.dims = {32, 64, 128, 256}, c.patchSize = 8;
  c.initValues = 1e-6;
  return c;
}

}  // namespace

FamilyTraits convNeXtFamily() {
  FamilyTraits t;
  t.name = "convnext", t.title = "ConvNeXt";
  t.readConfig = readConvNeXt;
  t.checkInput = checkConvNeXtInput;
  t.writeConfig = writeConvNeXt;
  t.estimateParameters = convNeXtParameters;
  t.adoptForeignNames = adoptConvNeXtNames;
  t.build = [](const ModelConfig& c) -> Classifier { return std::make_shared<ConvNeXtImpl>(c); };
  t.variantTitle = [](const std::string& id) {  // convnext_tiny -> ConvNeXt-T, convnext_fmnist -> ConvNeXt-FMNIST
    if (id == "convnext_fmnist") return std::string("ConvNeXt-FMNIST");
    return "ConvNeXt-" + std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(id[9]))));
  };
  t.variants = {
      convNeXtVariant("convnext_tiny", {3, 3, 9, 3}, {96, 192, 384, 768}, 0.95, 28589128, 4.456),
      convNeXtVariant("convnext_small", {3, 3, 27, 3}, {96, 192, 384, 768}, 0.95, 50223688, 8.684),
      convNeXtVariant("convnext_base", {3, 3, 27, 3}, {128, 256, 512, 1024}, 0.875, 88591464, 15.355),
      fashionMnistVariant("convnext_fmnist", nanoConvNeXt(), "Nano ConvNeXt"),
  };
  return t;
}

}  // namespace fs::model
