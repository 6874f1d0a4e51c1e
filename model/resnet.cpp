#include "model/resnet.h"

#include "model/family.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>

#include <cctype>

namespace fs::model {
namespace {
namespace nn = torch::nn;

ConvBn registerConvBn(nn::Module& m, const std::string& conv, const std::string& bn, int64_t in,
                      int64_t out, int64_t k, int64_t stride) {
  auto c = m.register_module(conv, nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(false)));
  auto b = m.register_module(bn, nn::BatchNorm2d(out));
  return ConvBn(c, b);
}

int64_t convOut(int64_t n, int64_t k, int64_t s, int64_t p) { return (n + 2 * p - k) / s + 1; }
}  // namespace

ResNetBlockImpl::ResNetBlockImpl(int64_t in, int64_t planes, int64_t stride, bool bottleneck) {
  if (bottleneck) {
    out_ = planes * 4;
    convs_.push_back(registerConvBn(*this, "conv1", "bn1", in, planes, 1, 1));
    convs_.push_back(registerConvBn(*this, "conv2", "bn2", planes, planes, 3, stride));
    convs_.push_back(registerConvBn(*this, "conv3", "bn3", planes, out_, 1, 1));
  } else {
    out_ = planes;
    convs_.push_back(registerConvBn(*this, "conv1", "bn1", in, planes, 3, stride));
    convs_.push_back(registerConvBn(*this, "conv2", "bn2", planes, planes, 3, 1));
  }
  if (stride != 1 || in != out_) {
    hasDownsample_ = true;
    auto c = nn::Conv2d(nn::Conv2dOptions(in, out_, 1).stride(stride).bias(false));
    auto b = nn::BatchNorm2d(out_);
    register_module("downsample", nn::Sequential(c, b));
    downsample_ = ConvBn(c, b);
  }
}

at::Tensor ResNetBlockImpl::forward(at::Tensor x, bool training) const {
  at::Tensor y = x;
  for (size_t i = 0; i + 1 < convs_.size(); ++i) y = convs_[i].forward(y, training, PostOp::Relu);
  // The identity is handed over, so the inference path can sum into it in place.
  at::Tensor identity = hasDownsample_ ? downsample_.forward(x, training) : std::move(x);
  return convs_.back().forward(y, training, PostOp::AddThenRelu, std::move(identity));
}

bool ResNetBlockImpl::blockable() const {
  for (const auto& c : convs_)
    if (!c.blockable()) return false;
  return !hasDownsample_ || downsample_.blockable();
}

void ResNetBlockImpl::fold(bool on) {
  for (auto& c : convs_) on ? c.fold() : c.unfold();
  if (hasDownsample_) on ? downsample_.fold() : downsample_.unfold();
}

ResNetImpl::ResNetImpl(const ModelConfig& c) : config_(c) {
  stem_ = registerConvBn(*this, "conv1", "bn1", 3, c.width, 7, 2);
  int64_t in = c.width;
  for (size_t l = 0; l < c.layers.size(); ++l) {
    nn::ModuleList seq;
    layers_.emplace_back();
    const int64_t planes = int64_t(c.width) << l;
    for (int b = 0; b < c.layers[l]; ++b) {
      auto block = ResNetBlock(in, planes, (b == 0 && l > 0) ? 2 : 1, c.bottleneck);
      in = block->outChannels();
      layers_.back().push_back(block);
      seq->push_back(block);
    }
    register_module("layer" + std::to_string(l + 1), seq);
  }
  fc_ = register_module("fc", nn::Linear(in, c.numClasses));
}

std::vector<TapInfo> ResNetImpl::taps() const {
  std::vector<TapInfo> out;
  int64_t h = convOut(convOut(config_.input.height, 7, 2, 3), 3, 2, 1);
  int64_t w = convOut(convOut(config_.input.width, 7, 2, 3), 3, 2, 1);
  int stride = 4;
  out.push_back({"maxpool", config_.width, int(h), int(w), stride, TapLayout::NCHW});
  for (size_t l = 0; l < layers_.size(); ++l) {
    if (l > 0) h = convOut(h, 3, 2, 1), w = convOut(w, 3, 2, 1), stride *= 2;
    const std::string p = "layer" + std::to_string(l + 1);
    const int ch = int(layers_[l].back()->outChannels());
    for (size_t b = 0; b < layers_[l].size(); ++b)
      out.push_back({p + "." + std::to_string(b), ch, int(h), int(w), stride, TapLayout::NCHW});
    out.push_back({p, ch, int(h), int(w), stride, TapLayout::NCHW});
  }
  return out;
}

std::vector<std::string> ResNetImpl::stages() const {
  std::vector<std::string> out;
  for (size_t l = 0; l < layers_.size(); ++l) out.push_back("layer" + std::to_string(l + 1));
  return out;
}

bool ResNetImpl::blockedLayout(int64_t batch) const {
  // On the prepacked path the activations are channels-last, or blocked from the stem to the last
  // block where blockedConvolutions() prefers that (fast_inference.h).
  bool blocked = !is_training() && blockedConvolutions(batch) && stem_.blockable();
  for (const auto& layer : layers_)
    for (const auto& b : layer) blocked = blocked && b->blockable();
  return blocked;
}

at::Tensor ResNetImpl::stemUnits(const at::Tensor& input, TapSink& sink, bool blocked) {
  const bool train = is_training();
  at::Tensor x = stem_.forward(input, train, PostOp::Relu, {}, blocked ? ConvOutput::Blocked : ConvOutput::LikeInput);
  return sink.nchwOrBlocked("maxpool", maxPool2d(x, 3, 2, 1, !train && stem_.packed()));
}

at::Tensor ResNetImpl::afterStem(at::Tensor x, TapSink& sink) {
  const bool train = is_training();
  for (size_t l = 0; l < layers_.size(); ++l) {
    const std::string p = "layer" + std::to_string(l + 1);
    for (size_t b = 0; b < layers_[l].size(); ++b)
      x = sink.nchwOrBlocked(p + "." + std::to_string(b), layers_[l][b]->forward(std::move(x), train));
    x = sink.nchwOrBlocked(p, std::move(x));
  }
  const at::Tensor pooled = isBlocked(x) ? x.mean({2, 3}).flatten(1) : x.mean({2, 3});
  return linear(fc_, pooled);
}

ForwardResult ResNetImpl::forward(const at::Tensor& input, const std::vector<std::string>& tapNames) {
  TapSink sink(tapNames);
  at::Tensor x = stemUnits(input, sink, blockedLayout(input.size(0)));
  return {afterStem(std::move(x), sink), sink.take()};
}

LocalField ResNetImpl::localPrefix() const {  // the stem and its max pooling
  LocalField f;
  f.then(*stem_.conv());
  f.then(3, 2, 1);  // the max pooling of the forward (a stride-0 field stays 0)
  return f;
}

at::Tensor ResNetImpl::forwardPrefix(const at::Tensor& x, int64_t layoutBatch) {
  TapSink none({});
  return stemUnits(x, none, blockedLayout(layoutBatch));
}

at::Tensor ResNetImpl::logitsFromPrefix(const at::Tensor& prefix) {
  TapSink none({});
  return afterStem(prefix, none);
}

void ResNetImpl::prepareForInference() {
  stem_.fold();
  for (auto& layer : layers_)
    for (auto& b : layer) b->fold(true);
}

void ResNetImpl::invalidateInferenceCache() {
  stem_.unfold();
  for (auto& layer : layers_)
    for (auto& b : layer) b->fold(false);
}

// ---- Family traits (model/family.h): ResNet ----------------------------------------------------------
namespace {

void readResNet(const ConfigReader& r, ModelConfig& c) {
  const nlohmann::json& b = r.has("block") ? r.j.at("block") : nlohmann::json("bottleneck");
  if (b != "basic" && b != "bottleneck") r.fail("'block' must be \"basic\" or \"bottleneck\"");
  c.bottleneck = b == "bottleneck";
  c.layers = r.intList("layers", 0, kMaxDepth);
  c.width = r.integer("width", 1, 4096, 64);
  if (c.layers.size() > 4) r.fail("'layers' has at most 4 entries");
}

void writeResNet(const ModelConfig& c, nlohmann::json& j) {
  j.update({{"block", c.bottleneck ? "bottleneck" : "basic"}, {"layers", c.layers}, {"width", c.width}});
}

int64_t resNetParameters(const ModelConfig& c) {
  using namespace param_count;
  const I w = c.width;
  I n = w * 3 * 49 + bn(w), in = w;
  for (size_t l = 0; l < c.layers.size(); ++l) {
    const I p = w << l, out = c.bottleneck ? 4 * p : p;
    for (int b = 0; b < c.layers[l]; ++b) {
      I block = c.bottleneck ? in * p + bn(p) + p * p * 9 + bn(p) + p * out + bn(out)
                             : in * p * 9 + bn(p) + p * p * 9 + bn(p);
      if ((b == 0 && l > 0) || in != out) block += in * out + bn(out);
      n = add(n, block);
      in = out;
    }
  }
  return add(n, linear(in, c.numClasses));
}

Variant resNetVariant(const char* id, bool bottleneck, std::vector<int> layers, int64_t params, double gmacs) {
  ModelConfig c;
  c.id = id, c.family = "resnet", c.bottleneck = bottleneck, c.layers = layers;
  c.input = imagenetInput(Interpolation::Bilinear);
  return {c, "ResNet-" + std::string(id + 6), params, gmacs};
}

}  // namespace

FamilyTraits resNetFamily() {
  FamilyTraits t;
  t.name = "resnet", t.title = "ResNet";
  t.readConfig = readResNet;
  t.writeConfig = writeResNet;
  t.estimateParameters = resNetParameters;
  t.build = [](const ModelConfig& c) -> Classifier { return std::make_shared<ResNetImpl>(c); };
  t.variantTitle = [](const std::string& id) {  // resnet50 -> ResNet-50, resnet_fmnist -> ResNet-FMNIST
    std::string n = id.substr(id.size() > 6 && id[6] == '_' ? 7 : 6);
    for (char& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return "ResNet-" + n;
  };
  ModelConfig nano;  // trained on Fashion-MNIST for the bundled demo
  nano.family = "resnet", nano.bottleneck = false, nano.layers = {1, 1, 1, 1}, nano.width = 16;
  t.variants = {
      resNetVariant("resnet18", false, {2, 2, 2, 2}, 11689512, 1.81),
      resNetVariant("resnet34", false, {3, 4, 6, 3}, 21797672, 3.66),
      resNetVariant("resnet50", true, {3, 4, 6, 3}, 25557032, 4.09),
      resNetVariant("resnet101", true, {3, 4, 23, 3}, 44549160, 7.80),
      resNetVariant("resnet152", true, {3, 8, 36, 3}, 60192808, 11.51),
      fashionMnistVariant("resnet_fmnist", nano, "Nano ResNet"),
  };
  return t;
}

}  // namespace fs::model
