#include "model/convmlp.h"

#include "model/family.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/pooling.h>

namespace fs::model {
namespace {
namespace nn = torch::nn;

int64_t halfUp(int64_t n) { return (n + 1) / 2; }  // k3 s2 p1 conv / pool output size

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, bool bias, int64_t groups = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(bias).groups(groups));
}

// Appends Conv(in->out,k) BN ReLU to `seq` and returns the conv+BN pair.
ConvBn appendConvBnRelu(nn::Sequential& seq, int64_t in, int64_t out, int64_t k, int64_t stride) {
  auto c = conv(in, out, k, stride, false);
  auto bn = nn::BatchNorm2d(out);
  seq->push_back(c);
  seq->push_back(bn);
  seq->push_back(nn::ReLU());
  return ConvBn(c, bn);
}
}  // namespace

ConvMlpBlockImpl::ConvMlpBlockImpl(int64_t dim, int64_t hidden, bool withConnect) {
  auto ln = [dim] { return layerNorm(dim, 1e-5); };
  norm1 = register_module("norm1", ln());
  channel_mlp1 = register_module("channel_mlp1", Mlp(dim, hidden, dim));
  norm2 = register_module("norm2", ln());
  if (withConnect) {
    connect = register_module("connect", conv(dim, dim, 3, 1, false, dim));
    connect_norm = register_module("connect_norm", ln());
  }
  channel_mlp2 = register_module("channel_mlp2", Mlp(dim, hidden, dim));
}

at::Tensor ConvMlpBlockImpl::forward(at::Tensor input) {
  const at::Tensor n1 = norm1->forward(input);
  at::Tensor x = channel_mlp1->forward(n1, std::move(input));  // input + mlp, summed in place
  if (connect) {
    at::Tensor y = connect_norm->forward(x).permute({0, 3, 1, 2});
    x = conv2d(connect, connectPacked_, y.contiguous(at::MemoryFormat::ChannelsLast)).permute({0, 2, 3, 1});
  }
  at::Tensor y = norm2->forward(x);
  return channel_mlp2->forward(y, std::move(x));
}

void ConvMlpBlockImpl::pack(bool on) {
  channel_mlp1->pack(on, false), channel_mlp2->pack(on, false);
  if (connect) packConv(connectPacked_, connect, on);
}

// Registered in the checkpoints' order: tokenizer, conv_stages, stages, norm, head.
ConvMlpImpl::ConvMlpImpl(const ModelConfig& c) : config_(c) {
  buildTokenizer();
  buildConvStage();
  buildMlpStages();
  norm_ = register_module("norm", layerNorm(c.dims.back(), 1e-5));
  head_ = register_module("head", nn::Linear(c.dims.back(), c.numClasses));
}

// tokenizer.block: three 3x3 conv-BN-ReLU (the first with stride 2), then a 3x3 max pool, stride 2.
void ConvMlpImpl::buildTokenizer() {
  const ModelConfig& c = config_;
  auto tokenizer = register_module("tokenizer", std::make_shared<nn::Module>());
  nn::Sequential block;
  tokenizerConvs_.push_back(appendConvBnRelu(block, 3, c.channels / 2, 3, 2));
  tokenizerConvs_.push_back(appendConvBnRelu(block, c.channels / 2, c.channels / 2, 3, 1));
  tokenizerConvs_.push_back(appendConvBnRelu(block, c.channels / 2, c.channels, 3, 1));
  block->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
  tokenizer->register_module("block", block);
}

// conv_stages: bottleneck conv blocks (1x1, 3x3, 1x1, each conv-BN-ReLU), then a 3x3 stride-2 downsample.
void ConvMlpImpl::buildConvStage() {
  const ModelConfig& c = config_;
  auto convStages = register_module("conv_stages", std::make_shared<nn::Module>());
  nn::ModuleList convBlocks;
  for (int i = 0; i < c.nConvBlocks; ++i) {
    nn::Sequential seq;
    std::vector<ConvBn> convs;
    convs.push_back(appendConvBnRelu(seq, c.channels, c.dims[0], 1, 1));
    convs.push_back(appendConvBnRelu(seq, c.dims[0], c.dims[0], 3, 1));
    convs.push_back(appendConvBnRelu(seq, c.dims[0], c.channels, 1, 1));
    convBlocks->push_back(seq);
    convBlockConvs_.push_back(std::move(convs));
  }
  convStages->register_module("conv_blocks", convBlocks);
  convDownsample_ = convStages->register_module("downsample", conv(c.channels, c.dims[0], 3, 2, true));
}

// stages: the Conv-MLP blocks (no depth-wise conv in the Pure-MLP ablation), each stage but the
// last followed by a 3x3 stride-2 downsample.
void ConvMlpImpl::buildMlpStages() {
  const ModelConfig& c = config_;
  const bool pure = c.family == "puremlp";
  nn::ModuleList stages;
  for (size_t s = 0; s < c.blocks.size(); ++s) {
    auto stage = std::make_shared<nn::Module>();
    nn::ModuleList list;
    const auto hidden = static_cast<int64_t>(c.dims[s] * c.mlpRatios[s]);
    blocks_.emplace_back();
    for (int b = 0; b < c.blocks[s]; ++b) {
      blocks_.back().push_back(ConvMlpBlock(c.dims[s], hidden, !pure));
      list->push_back(blocks_.back().back());
    }
    stage->register_module("blocks", list);
    stageDownsample_.emplace_back(nullptr);
    stageDownsamplePacked_.emplace_back();
    if (s + 1 < c.blocks.size()) {
      auto down = stage->register_module("downsample_mlp", std::make_shared<nn::Module>());
      stageDownsample_.back() = down->register_module("downsample", conv(c.dims[s], c.dims[s + 1], 3, 2, true));
    }
    stages->push_back(stage);
  }
  register_module("stages", stages);
}

std::vector<TapInfo> ConvMlpImpl::taps() const {
  std::vector<TapInfo> out;
  int64_t h = halfUp(halfUp(config_.input.height)), w = halfUp(halfUp(config_.input.width));
  int stride = 4;
  auto add = [&](std::string name, int ch, TapLayout layout) {
    out.push_back({std::move(name), ch, int(h), int(w), stride, layout});
  };
  add("tokenizer", config_.channels, TapLayout::NCHW);
  for (int i = 0; i < config_.nConvBlocks; ++i)
    add("conv_stages.conv_blocks." + std::to_string(i), config_.channels, TapLayout::NCHW);
  h = halfUp(h), w = halfUp(w), stride *= 2;
  add("conv_stages", config_.dims[0], TapLayout::NCHW);
  for (size_t s = 0; s < config_.blocks.size(); ++s) {
    const std::string p = "stages." + std::to_string(s);
    for (int b = 0; b < config_.blocks[s]; ++b)
      add(p + ".blocks." + std::to_string(b), config_.dims[s], TapLayout::NHWC);
    if (s + 1 < config_.blocks.size()) h = halfUp(h), w = halfUp(w), stride *= 2;
    add(p, config_.dims[std::min(s + 1, config_.dims.size() - 1)], TapLayout::NHWC);
  }
  return out;
}

std::vector<std::string> ConvMlpImpl::stages() const {
  std::vector<std::string> out{"conv_stages"};
  for (size_t s = 0; s < config_.blocks.size(); ++s) out.push_back("stages." + std::to_string(s));
  return out;
}

bool ConvMlpImpl::blockedPrefix(int64_t batch) const {
  // On the prepacked path the activations are channels-last, or blocked from the tokenizer to the
  // downsampling convolution (whose output is channels-last for the MLP stages) where
  // blockedConvolutions() prefers that (fast_inference.h).
  bool blocked = !is_training() && blockedConvolutions(batch) && blockable(convDownsamplePacked_);
  for (const auto& cb : tokenizerConvs_) blocked = blocked && cb.blockable();
  for (const auto& convs : convBlockConvs_)
    for (const auto& cb : convs) blocked = blocked && cb.blockable();
  return blocked;
}

at::Tensor ConvMlpImpl::localUnits(at::Tensor x, TapSink& sink, bool blocked) {
  const bool train = is_training();
  for (size_t i = 0; i < tokenizerConvs_.size(); ++i)
    x = tokenizerConvs_[i].forward(x, train, PostOp::Relu, {},
                                   blocked && i == 0 ? ConvOutput::Blocked : ConvOutput::LikeInput);
  x = sink.nchwOrBlocked("tokenizer", maxPool2d(x, 3, 2, 1, !train && tokenizerConvs_.back().packed()));
  for (size_t i = 0; i < convBlockConvs_.size(); ++i) {
    const auto& convs = convBlockConvs_[i];
    at::Tensor y = x;
    for (size_t c = 0; c + 1 < convs.size(); ++c) y = convs[c].forward(y, train, PostOp::Relu);
    y = convs.back().forward(y, train, PostOp::ReluThenAdd, std::move(x));
    x = sink.nchwOrBlocked("conv_stages.conv_blocks." + std::to_string(i), y);
  }
  return x;
}

at::Tensor ConvMlpImpl::afterLocalUnits(at::Tensor x, TapSink& sink) {
  // Blocked in, channels-last out had only oneDNN's reference kernel on AVX2: the output stays
  // blocked and is converted.
  x = conv2d(convDownsample_, convDownsamplePacked_, x);
  x = sink.nchw("conv_stages", isBlocked(x) ? fromBlocked(x) : x).permute({0, 2, 3, 1});
  for (size_t s = 0; s < blocks_.size(); ++s) {
    const std::string p = "stages." + std::to_string(s);
    for (size_t b = 0; b < blocks_[s].size(); ++b)
      x = sink.nhwc(p + ".blocks." + std::to_string(b), blocks_[s][b]->forward(std::move(x)));
    if (stageDownsample_[s]) {
      at::Tensor y = x.permute({0, 3, 1, 2}).contiguous(at::MemoryFormat::ChannelsLast);
      x = conv2d(stageDownsample_[s], stageDownsamplePacked_[s], y).permute({0, 2, 3, 1});
    }
    x = sink.nhwc(p, x);
  }
  x = norm_->forward(x.flatten(1, 2)).mean(1);
  return linear(head_, x);
}

ForwardResult ConvMlpImpl::forward(const at::Tensor& input, const std::vector<std::string>& tapNames) {
  TapSink sink(tapNames);
  at::Tensor x = localUnits(input, sink, blockedPrefix(input.size(0)));
  return {afterLocalUnits(std::move(x), sink), sink.take()};
}

LocalField ConvMlpImpl::localPrefix() const {  // the tokenizer, its max pooling and the conv blocks
  LocalField f;
  for (const auto& cb : tokenizerConvs_) f.then(*cb.conv());
  f.then(3, 2, 1);  // the max pooling of the forward (a stride-0 field stays 0)
  for (const auto& convs : convBlockConvs_)
    for (const auto& cb : convs) f.then(*cb.conv());
  return f;
}

at::Tensor ConvMlpImpl::forwardPrefix(const at::Tensor& x, int64_t layoutBatch) {
  TapSink none({});
  return localUnits(x, none, blockedPrefix(layoutBatch));
}

at::Tensor ConvMlpImpl::logitsFromPrefix(const at::Tensor& prefix) {
  TapSink none({});
  return afterLocalUnits(prefix, none);
}

void ConvMlpImpl::prepareForInference() {
  for (auto& cb : tokenizerConvs_) cb.fold();
  for (auto& blk : convBlockConvs_)
    for (auto& cb : blk) cb.fold();
  packPlainConvs(true);
}

void ConvMlpImpl::invalidateInferenceCache() {
  for (auto& cb : tokenizerConvs_) cb.unfold();
  for (auto& blk : convBlockConvs_)
    for (auto& cb : blk) cb.unfold();
  packPlainConvs(false);
}

void ConvMlpImpl::packPlainConvs(bool on) {
  packConv(convDownsamplePacked_, convDownsample_, on);
  for (size_t s = 0; s < stageDownsample_.size(); ++s)
    if (stageDownsample_[s]) packConv(stageDownsamplePacked_[s], stageDownsample_[s], on);
  for (auto& stage : blocks_)
    for (auto& b : stage) b->pack(on);
}

// ---- Family traits (model/family.h): ConvMLP and its Pure-MLP ablation ----------------------------
namespace {

void readConvMlp(const ConfigReader& r, ModelConfig& c) {
  c.blocks = r.intList("blocks", 0, kMaxDepth);
  c.dims = r.intList("dims", 2, kMaxDim);
  c.mlpRatios = r.numList("mlp_ratios", 0.01, 64);
  if (c.blocks.size() != c.dims.size() || c.blocks.size() != c.mlpRatios.size())
    r.fail("'blocks', 'dims' and 'mlp_ratios' must have the same length");
  c.channels = r.required("channels", 2, kMaxDim);
  if (c.channels % 2) r.fail("'channels' must be even");
  c.nConvBlocks = r.integer("n_conv_blocks", 0, kMaxDepth, 2);
  for (size_t s = 0; s < c.dims.size(); ++s) r.hiddenWidth("mlp_ratios", c.dims[s], c.mlpRatios[s]);
}

void writeConvMlp(const ModelConfig& c, nlohmann::json& j) {
  j.update({{"blocks", c.blocks}, {"dims", c.dims}, {"mlp_ratios", c.mlpRatios}, {"channels", c.channels},
            {"n_conv_blocks", c.nConvBlocks}});
}

int64_t convMlpParameters(const ModelConfig& c) {
  using namespace param_count;
  const I ch = c.channels, h = ch / 2, d0 = c.dims[0];
  I n = 3 * h * 9 + bn(h) + h * h * 9 + bn(h) + h * ch * 9 + bn(ch);
  const I convBlock = add(add(mul(ch, d0) + bn(d0), mul(mul(d0, d0), 9) + bn(d0)), mul(d0, ch) + bn(ch));
  n = add(n, mul(c.nConvBlocks, convBlock));
  n = add(n, mul(mul(ch, d0), 9) + d0);
  for (size_t s = 0; s < c.blocks.size(); ++s) {
    const I d = c.dims[s], hid = static_cast<I>(d * c.mlpRatios[s]);
    I block = add(4 * d, mul(2, mlp(d, hid)));
    if (c.family == "convmlp") block = add(block, 9 * d + 2 * d);  // the depthwise conv + its BN
    n = add(n, mul(c.blocks[s], block));
    if (s + 1 < c.blocks.size()) n = add(n, add(mul(mul(d, c.dims[s + 1]), 9), c.dims[s + 1]));
  }
  return add(n, add(2 * c.dims.back(), linear(c.dims.back(), c.numClasses)));
}

Variant convMlpVariant(const char* id, const char* family, std::vector<int> blocks, std::vector<int> dims,
                       double ratio, int channels, int nConv, int64_t params, double gmacs) {
  ModelConfig c;
  c.id = id, c.family = family, c.blocks = blocks, c.dims = dims, c.channels = channels, c.nConvBlocks = nConv;
  c.mlpRatios.assign(blocks.size(), ratio);
  c.input = imagenetInput(Interpolation::Bicubic);
  const char* what = c.family == "convmlp" ? "ConvMLP" : "Pure-MLP ablation of ConvMLP";
  return {c, std::string(what) + " " + (id + std::string(id).find('_') + 1), params, gmacs};
}

// The nano member trained on Fashion-MNIST for the bundled demo.
ModelConfig nanoConvMlp(const char* family) {
  ModelConfig c;
  c.family = family, c.blocks = {1, 1, 1}, c.dims = {32, 64, 128};
  c.mlpRatios = {2, 2, 2}, c.channels = 16, c.nConvBlocks = 1;
  return c;
}

FamilyTraits convMlpTraits(const char* name, const char* title) {
  FamilyTraits t;
  t.name = name, t.title = title;
  t.readConfig = readConvMlp;
  t.writeConfig = writeConvMlp;
  t.estimateParameters = convMlpParameters;
  t.build = [](const ModelConfig& c) -> Classifier { return std::make_shared<ConvMlpImpl>(c); };
  return t;
}

}  // namespace

FamilyTraits convMlpFamily() {
  FamilyTraits t = convMlpTraits("convmlp", "ConvMLP");
  t.variants = {
      convMlpVariant("convmlp_s", "convmlp", {2, 4, 2}, {128, 256, 512}, 2, 64, 2, 9022920, 2.385),
      convMlpVariant("convmlp_m", "convmlp", {3, 6, 3}, {128, 256, 512}, 3, 64, 3, 17410504, 3.929),
      convMlpVariant("convmlp_l", "convmlp", {4, 8, 3}, {192, 384, 768}, 3, 96, 3, 42728440, 9.870),
      fashionMnistVariant("convmlp_fmnist", nanoConvMlp("convmlp"), "Nano ConvMLP"),
  };
  return t;
}

FamilyTraits pureMlpFamily() {
  FamilyTraits t = convMlpTraits("puremlp", "Pure-MLP");
  t.aliases = {"pure_mlp"};
  t.variants = {
      convMlpVariant("puremlp_s", "puremlp", {2, 4, 2}, {128, 256, 512}, 2, 64, 2, 0, 0),
      convMlpVariant("puremlp_m", "puremlp", {3, 6, 3}, {128, 256, 512}, 3, 64, 3, 0, 0),
      convMlpVariant("puremlp_l", "puremlp", {4, 8, 3}, {192, 384, 768}, 3, 96, 3, 0, 0),
      fashionMnistVariant("puremlp_fmnist", nanoConvMlp("puremlp"), "Nano Pure-MLP"),
  };
  return t;
}

}  // namespace fs::model
