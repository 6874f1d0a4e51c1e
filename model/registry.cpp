#include "model/registry.h"

#include "model/convmlp.h"
#include "model/errors.h"
#include "model/layers.h"
#include "model/mlp_mixer.h"
#include "model/resnet.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace fs::model {
namespace {

InputSpec imagenet(Interpolation interp, double cropPct = 0.875) {
  InputSpec s;
  s.interpolation = interp;
  s.cropPct = cropPct;
  return s;
}

Variant convMlp(const char* id, Family f, std::vector<int> blocks, std::vector<int> dims, double ratio,
                int channels, int nConv, int64_t params, double gmacs) {
  ModelConfig c;
  c.id = id, c.family = f, c.blocks = blocks, c.dims = dims, c.channels = channels, c.nConvBlocks = nConv;
  c.mlpRatios.assign(blocks.size(), ratio);
  c.input = imagenet(Interpolation::Bicubic);
  const char* what = f == Family::ConvMLP ? "ConvMLP" : "Pure-MLP ablation of ConvMLP";
  return {c, std::string(what) + " " + (id + std::string(id).find('_') + 1), params, gmacs};
}

Variant mixer(const char* id, int patch, int dim, int depth, int64_t params, double gmacs) {
  ModelConfig c;
  c.id = id, c.family = Family::Mixer, c.patchSize = patch, c.embedDim = dim, c.numBlocks = depth;
  c.input = imagenet(Interpolation::Bicubic);
  c.input.mean = c.input.std = {0.5f, 0.5f, 0.5f};
  return {c, "MLP-Mixer " + std::string(id + 6), params, gmacs};
}

Variant resMlp(const char* id, int depth, double init, int64_t params, double gmacs) {
  ModelConfig c;
  c.id = id, c.family = Family::ResMLP, c.patchSize = 16, c.embedDim = 384, c.numBlocks = depth;
  c.initValues = init;
  c.input = imagenet(Interpolation::Bicubic);
  return {c, "ResMLP-" + std::to_string(depth), params, gmacs};
}

Variant resNet(const char* id, bool bottleneck, std::vector<int> layers, int64_t params, double gmacs) {
  ModelConfig c;
  c.id = id, c.family = Family::ResNet, c.bottleneck = bottleneck, c.layers = layers;
  c.input = imagenet(Interpolation::Bilinear);
  return {c, "ResNet-" + std::string(id + 6), params, gmacs};
}

// Small members of each family for the bundled Fashion-MNIST demo: 28x28 images upsampled to
// 112x112 so hierarchical models keep 4x4 final maps and token models 7x7 tokens.
Variant fmnist(const char* id, ModelConfig c, const char* what) {
  c.id = id, c.numClasses = 10, c.labels = "fashion-mnist";
  c.input.height = c.input.width = 112;
  c.input.cropPct = 1.0;
  c.input.interpolation = Interpolation::Bilinear;
  c.input.mean = {0.2860f, 0.2860f, 0.2860f};
  c.input.std = {0.3530f, 0.3530f, 0.3530f};
  return {c, std::string(what) + " trained on Fashion-MNIST (bundled demo)", 0, 0};
}

std::vector<Variant> fmnistVariants() {
  ModelConfig conv;
  conv.family = Family::ConvMLP, conv.blocks = {1, 1, 1}, conv.dims = {32, 64, 128};
  conv.mlpRatios = {2, 2, 2}, conv.channels = 16, conv.nConvBlocks = 1;
  ModelConfig pure = conv;
  pure.family = Family::PureMLP;
  ModelConfig res;
  res.family = Family::ResNet, res.bottleneck = false, res.layers = {1, 1, 1, 1}, res.width = 16;
  ModelConfig mix;
  mix.family = Family::Mixer, mix.imgSize = 112, mix.patchSize = 16, mix.embedDim = 128, mix.numBlocks = 4;
  ModelConfig rmlp = mix;
  rmlp.family = Family::ResMLP, rmlp.initValues = 0.1;
  return {fmnist("convmlp_fmnist", conv, "Nano ConvMLP"), fmnist("puremlp_fmnist", pure, "Nano Pure-MLP"),
          fmnist("resnet_fmnist", res, "Nano ResNet"), fmnist("mixer_fmnist", mix, "Nano MLP-Mixer"),
          fmnist("resmlp_fmnist", rmlp, "Nano ResMLP")};
}

std::vector<Variant> makeRegistry() {
  using F = Family;
  std::vector<Variant> v = {
      convMlp("convmlp_s", F::ConvMLP, {2, 4, 2}, {128, 256, 512}, 2, 64, 2, 9022920, 2.385),
      convMlp("convmlp_m", F::ConvMLP, {3, 6, 3}, {128, 256, 512}, 3, 64, 3, 17410504, 3.929),
      convMlp("convmlp_l", F::ConvMLP, {4, 8, 3}, {192, 384, 768}, 3, 96, 3, 42728440, 9.870),
      convMlp("puremlp_s", F::PureMLP, {2, 4, 2}, {128, 256, 512}, 2, 64, 2, 0, 0),
      convMlp("puremlp_m", F::PureMLP, {3, 6, 3}, {128, 256, 512}, 3, 64, 3, 0, 0),
      convMlp("puremlp_l", F::PureMLP, {4, 8, 3}, {192, 384, 768}, 3, 96, 3, 0, 0),
      mixer("mixer_s32", 32, 512, 8, 19104624, 1.00),
      mixer("mixer_s16", 16, 512, 8, 18528264, 3.78),
      mixer("mixer_b32", 32, 768, 12, 60293428, 3.24),
      mixer("mixer_b16", 16, 768, 12, 59880472, 12.60),
      mixer("mixer_l32", 32, 1024, 24, 206939264, 11.25),
      mixer("mixer_l16", 16, 1024, 24, 208196168, 44.55),
      resMlp("resmlp_12", 12, 0.1, 15350872, 3.01),
      resMlp("resmlp_24", 24, 1e-5, 30020680, 5.96),
      resMlp("resmlp_36", 36, 1e-6, 44690488, 8.91),
      resNet("resnet18", false, {2, 2, 2, 2}, 11689512, 1.81),
      resNet("resnet34", false, {3, 4, 6, 3}, 21797672, 3.66),
      resNet("resnet50", true, {3, 4, 6, 3}, 25557032, 4.09),
      resNet("resnet101", true, {3, 4, 23, 3}, 44549160, 7.80),
      resNet("resnet152", true, {3, 8, 36, 3}, 60192808, 11.51),
  };
  for (auto& f : fmnistVariants()) v.push_back(std::move(f));
  return v;
}
}  // namespace

const std::vector<Variant>& registeredVariants() {
  static const std::vector<Variant> registry = makeRegistry();
  return registry;
}

const Variant* findVariant(const std::string& id) {
  for (const auto& v : registeredVariants())
    if (v.config.id == id) return &v;
  return nullptr;
}

ModelConfig resolveModelConfig(const std::string& idOrPath) {
  if (const Variant* v = findVariant(idOrPath)) return v->config;
  if (idOrPath.size() > 5 && idOrPath.compare(idOrPath.size() - 5, 5, ".json") == 0)
    return loadModelConfigFile(idOrPath);
  std::string ids;
  for (const auto& v : registeredVariants()) ids += (ids.empty() ? "" : ", ") + v.config.id;
  throw InputError("unknown model '" + idOrPath + "' (registered: " + ids + "; or a path to a .json config)");
}

Classifier buildModel(const ModelConfig& config, uint64_t seed) {
  at::manual_seed(seed);
  Classifier model;
  switch (config.family) {
    case Family::ConvMLP:
    case Family::PureMLP: model = std::make_shared<ConvMlpImpl>(config); break;
    case Family::Mixer:
    case Family::ResMLP: model = std::make_shared<MlpMixerImpl>(config); break;
    case Family::ResNet: model = std::make_shared<ResNetImpl>(config); break;
  }
  model->eval();
  return model;
}

int64_t countMacs(ClassifierImpl& model, const ModelConfig& config) {
  torch::NoGradGuard noGrad;
  MacCounter counter;
  model.forward(at::zeros({1, 3, config.input.height, config.input.width}), {});
  return counter.total();
}

}  // namespace fs::model
